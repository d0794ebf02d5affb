// Package observability tests what nodewave ships for Prometheus and
// Grafana against the real thing: config/prometheus (the ServiceMonitor and
// the PrometheusRule) and config/grafana (the dashboard).
//
//   - Every metric name in the alerts' and the dashboard's PromQL, parsed
//     with Prometheus' own parser, is one the manager registers on
//     controller-runtime's registry.
//   - The alerts behave: they are evaluated over synthetic series with
//     Prometheus' rule manager and query engine, as `promtool test rules`
//     does, from the cases in testdata/alerts_test.yaml.
//   - The ServiceMonitor scrapes the metrics Service that config/default
//     deploys, and the alert for a missing manager names its job.
//
// It is a module of its own so that the Prometheus module, which is large,
// stays out of nodewave's go.mod.
package observability
