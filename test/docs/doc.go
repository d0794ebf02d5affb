// Package docs keeps the documentation's commands honest: every command
// shown in a shell block of README.md and docs/*.md must be run by the
// end-to-end suite (test/e2e/docs_test.go), by the demo (hack/demo.sh), by
// the Helm chart's tests (helm commands), or be on a commented allow-list
// with the reason it cannot run there. A command added to the docs that
// nothing runs fails the unit tests.
package docs
