package main

import (
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/krew/pkg/constants"
	"sigs.k8s.io/krew/pkg/index"
	"sigs.k8s.io/yaml"
)

// krewManifestFile is the manifest's name in the output directory. In
// krew-index it is plugins/nodewave.yaml: the plugin's name.
const krewManifestFile = "nodewave.krew.yaml"

// releases is where a release's files are downloaded from.
const releases = "https://github.com/nodewave/nodewave/releases/download/"

// krewManifest is krew's plugin manifest for version, one platform per
// archive, written with krew's own types.
func krewManifest(version string, archives []archive) ([]byte, error) {
	p := index.Plugin{
		TypeMeta:   metav1.TypeMeta{APIVersion: constants.CurrentAPIVersion, Kind: constants.PluginKind},
		ObjectMeta: metav1.ObjectMeta{Name: "nodewave"},
		Spec: index.PluginSpec{
			Version:          version,
			Homepage:         "https://github.com/nodewave/nodewave",
			ShortDescription: "Show and foresee nodewave ClusterUpgrades",
			Description: strings.Join([]string{
				"Shows where each node of a nodewave ClusterUpgrade stands (status), and foresees,",
				"before any node is touched, the order, the first waves and the blockers of a",
				"ClusterUpgrade, applied or not (plan): PodDisruptionBudgets that allow no",
				"disruption, pods the drain keeps, NotReady nodes, too little room for the evicted",
				"pods, version skew, conflicts. It only reads the cluster.",
			}, "\n") + "\n",
			Caveats: strings.Join([]string{
				"The commands need the nodewave operator's ClusterUpgrade CRD in the cluster, and read",
				"ClusterUpgrades, nodes, pods, PodDisruptionBudgets and DaemonSets.",
				"For `kubectl nodewave <TAB>`, link kubectl_complete-nodewave from the plugin's",
				"directory ($KREW_ROOT/store/nodewave/<version>, ~/.krew by default) onto your PATH.",
			}, "\n") + "\n",
		},
	}
	for _, a := range archives {
		files := make([]index.FileOperation, 0, len(a.files))
		for _, f := range a.files {
			files = append(files, index.FileOperation{From: f, To: "."})
		}
		p.Spec.Platforms = append(p.Spec.Platforms, index.Platform{
			URI:      releases + version + "/" + a.name,
			Sha256:   a.sha256,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"os": a.os, "arch": a.arch}},
			Files:    files,
			Bin:      a.binary(),
		})
	}
	return yaml.Marshal(p)
}
