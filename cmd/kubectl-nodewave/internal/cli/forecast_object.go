package cli

import (
	"encoding/json"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"

	"github.com/nodewave/nodewave/internal/forecast"
)

// forecastGroupVersion is the apiVersion of `plan -o json|yaml`: a
// client-side kind, never served or stored by a cluster (as kubectl
// config view prints a Config), so that cli-runtime's printers, which
// print objects with a kind, print the forecast.
var forecastGroupVersion = schema.GroupVersion{Group: "kubectl.nodewave.io", Version: "v1alpha1"}

// forecastObject is a forecast as cli-runtime prints it: apiVersion and
// kind, then the forecast's own fields.
type forecastObject struct {
	metav1.TypeMeta `json:",inline"`
	forecast.Forecast
}

// newForecastObject wraps f with its apiVersion and kind.
func newForecastObject(f forecast.Forecast) *forecastObject {
	return &forecastObject{
		TypeMeta: metav1.TypeMeta{APIVersion: forecastGroupVersion.String(), Kind: "Forecast"},
		Forecast: f,
	}
}

// DeepCopyObject copies the forecast through its JSON, which holds every
// field of it.
func (o *forecastObject) DeepCopyObject() runtime.Object {
	c := &forecastObject{TypeMeta: o.TypeMeta}
	data, err := json.Marshal(o.Forecast)
	utilruntime.Must(err)
	utilruntime.Must(json.Unmarshal(data, &c.Forecast))
	return c
}
