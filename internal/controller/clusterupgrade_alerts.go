package controller

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/plan"
)

// alertsReadInterval is how often a ClusterUpgrade's alerts are read
// again: every pass would ask Prometheus several times a second during a
// large upgrade, and an alert is evaluated every 15 s or so anyway.
const alertsReadInterval = 10 * time.Second

// maxNamedAlerts bounds the alerts a Gated message names.
const maxNamedAlerts = 5

// alertsReadTimeout bounds one read of the alerts.
const alertsReadTimeout = 5 * time.Second

// alertReads remembers each ClusterUpgrade's last read of its alerts, so
// they are read at most every alertsReadInterval.
type alertReads struct {
	mu   sync.Mutex
	last map[types.UID]alertRead
}

// alertRead is one read: its time, its URL and what it found.
type alertRead struct {
	at     time.Time
	key    string   // the spec.health.prometheus it read, as JSON
	active []string // the active alerts' names, with their state
	err    error
}

func (a *alertReads) get(uid types.UID, key string, now time.Time) (alertRead, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	r, ok := a.last[uid]
	return r, ok && r.key == key && now.Sub(r.at) < alertsReadInterval
}

func (a *alertReads) put(uid types.UID, r alertRead) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.last == nil {
		a.last = map[types.UID]alertRead{}
	}
	a.last[uid] = r
}

func (a *alertReads) forget(uid types.UID) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.last, uid)
}

// alertsGate judges spec.health.prometheus: closed (AlertFiring) while an
// alert whose name matches alertNames is active, closed too while the
// server cannot be read (AlertsUnreadable), stalled once it could not be
// read for the gate's timeout (counted from when Gated turned True for
// that reason: the status is the memory) or when alertNames does not
// compile. nil when the gate is off or open.
func (r *ClusterUpgradeReconciler) alertsGate(ctx context.Context, s *scope) *plan.Gate {
	p := s.cu.Spec.Health.Prometheus
	if p == nil {
		return nil
	}
	names, err := regexp.Compile("^(?:" + cmp.Or(p.AlertNames, ".*") + ")$")
	if err != nil {
		return &plan.Gate{Reason: upgradev1alpha1.ReasonAlertsUnreadable, Since: s.now, Stalled: true,
			Message: fmt.Sprintf("spec.health.prometheus.alertNames is not a regular expression: %v", err)}
	}
	key, _ := json.Marshal(p)
	read, fresh := r.alerts.get(s.cu.UID, string(key), s.now)
	if !fresh {
		read = alertRead{at: s.now, key: string(key)}
		read.active, read.err = readAlerts(ctx, p)
		r.alerts.put(s.cu.UID, read)
	}
	if read.err != nil {
		g := &plan.Gate{Reason: upgradev1alpha1.ReasonAlertsUnreadable, Since: s.now}
		if c := meta.FindStatusCondition(s.cu.Status.Conditions, upgradev1alpha1.ConditionGated); c != nil &&
			c.Status == metav1.ConditionTrue && c.Reason == upgradev1alpha1.ReasonAlertsUnreadable {
			g.Since = c.LastTransitionTime.Time
		}
		timeout := s.cu.Spec.AlertsTimeout()
		g.Stalled = s.now.Sub(g.Since) >= timeout
		g.Message = fmt.Sprintf("cannot read the alerts of %s (since %s; stalls after %s): %v",
			p.URL, g.Since.UTC().Format(time.RFC3339), timeout, read.err)
		return g
	}
	var matching []string
	for _, a := range read.active {
		name, state, _ := strings.Cut(a, " ")
		if names.MatchString(name) && (!p.FiringOnly || state == "firing") {
			matching = append(matching, a)
		}
	}
	if len(matching) == 0 {
		return nil
	}
	slices.Sort(matching)
	matching = slices.Compact(matching)
	shown := matching[:min(len(matching), maxNamedAlerts)]
	msg := fmt.Sprintf("alerts active in %s: %s", p.URL, strings.Join(shown, ", "))
	if more := len(matching) - len(shown); more > 0 {
		msg += fmt.Sprintf(", %d more", more)
	}
	return &plan.Gate{Reason: upgradev1alpha1.ReasonAlertFiring, Since: s.now, Message: msg}
}

// readAlerts reads the active alerts of p's server, each as "name state"
// (state firing or pending; an Alertmanager's are firing).
func readAlerts(ctx context.Context, p *upgradev1alpha1.PrometheusGate) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, alertsReadTimeout)
	defer cancel()
	base := strings.TrimSuffix(p.URL, "/")
	if p.Source == upgradev1alpha1.AlertSourceAlertmanager {
		var alerts []struct {
			Labels map[string]string `json:"labels"`
		}
		if err := getJSON(ctx, base+"/api/v2/alerts?active=true&silenced=false&inhibited=false&unprocessed=false", &alerts); err != nil {
			return nil, err
		}
		out := make([]string, 0, len(alerts))
		for _, a := range alerts {
			out = append(out, a.Labels["alertname"]+" firing")
		}
		return out, nil
	}
	var resp struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Alerts []struct {
				Labels map[string]string `json:"labels"`
				State  string            `json:"state"`
			} `json:"alerts"`
		} `json:"data"`
	}
	if err := getJSON(ctx, base+"/api/v1/alerts", &resp); err != nil {
		return nil, err
	}
	if resp.Status != "success" {
		return nil, fmt.Errorf("status %q: %s", resp.Status, resp.Error)
	}
	out := make([]string, 0, len(resp.Data.Alerts))
	for _, a := range resp.Data.Alerts {
		out = append(out, a.Labels["alertname"]+" "+a.State)
	}
	return out, nil
}

// getJSON GETs url and decodes its JSON body into v.
func getJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	return nil
}
