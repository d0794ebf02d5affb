package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"slices"
	"strings"
	"time"
)

// archiveFile is a file to put in an archive: its name there, the file it
// is read from, and its mode there.
type archiveFile struct {
	name, src string
	mode      int64
}

// epoch is every entry's time: the archive's bytes depend on the files'
// contents only.
var epoch = time.Unix(0, 0).UTC()

// tarGz is a gzipped tar of files, reproducibly: entries in name order,
// the epoch as every time, uid and gid 0 without names, the given modes,
// a gzip header with neither name nor time.
func tarGz(files []archiveFile) ([]byte, error) {
	files = slices.Clone(files)
	slices.SortFunc(files, func(a, b archiveFile) int { return strings.Compare(a.name, b.name) })
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(zw)
	for _, f := range files {
		data, err := os.ReadFile(f.src)
		if err != nil {
			return nil, err
		}
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: f.name, Mode: f.mode, Size: int64(len(data)),
			ModTime: epoch, Format: tar.FormatUSTAR}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
