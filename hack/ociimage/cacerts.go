package main

import (
	"bytes"
	"encoding/pem"
	"path"

	"golang.org/x/crypto/x509roots/fallback/bundle"
)

// withCACertificates adds the Mozilla root store, as the Go project ships
// it in golang.org/x/crypto/x509roots/fallback (pinned in go.mod, so every
// build writes the same file), as one PEM file at dest: what a distroless
// base puts at /etc/ssl/certs/ca-certificates.crt, without pulling one.
// Roots that carry a constraint (a distrust date) are left out: a PEM file
// cannot say it.
func withCACertificates(entries []entry, dest string) ([]entry, error) {
	var buf bytes.Buffer
	for root := range bundle.Roots() {
		if root.Constraint != nil {
			continue
		}
		if err := pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: root.Certificate}); err != nil {
			return nil, err
		}
	}
	return sortEntries(append(entries, entry{dest: path.Clean(dest), data: buf.Bytes()})), nil
}
