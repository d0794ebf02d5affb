package nodeupgrade

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

const (
	// jobNamePrefix starts every upgrade Job's name.
	jobNamePrefix = "nodewave-"
	// jobNameHashLen is how many hex digits of the hash end the name.
	jobNameHashLen = 10
	// maxJobNameLen is the limit of a DNS-1123 label. A Job's name must fit
	// in one because the Job controller copies it into a label value of its
	// pods (batch.kubernetes.io/job-name), which has the same limit.
	maxJobNameLen = 63
)

// JobName is deterministic for (cluster upgrade, node, target) and a valid
// DNS label of at most 63 chars: a readable prefix "nodewave-" + as much of
// the node name as fits, then "-" + 10 hex chars of a sha256 over
// cuName/nodeName/target.
//
// The node part is the node name lowercased, with every character that is
// not a lowercase letter, a digit or '-' (the dots of a node name that is a
// DNS subdomain) replaced by '-', cut to 43 characters and trimmed of '-' at
// either end. It is only there for people reading `kubectl get jobs`: the
// hash, taken over the three inputs separated by NUL bytes, is what tells
// Jobs apart, so two nodes whose names share their first 43 characters, or
// the same node under two targets, get different names. Node names can be
// 253 chars with dots; the result is always a valid DNS-1123 label
// (lowercase alnum and '-', starting and ending with an alnum).
func JobName(cuName, nodeName, target string) string {
	return jobName(jobNamePrefix, cuName+"\x00"+nodeName+"\x00"+target, nodeName)
}

// HookJobName is JobName for the hook Job of (cluster upgrade, node,
// hook): "nodewave-<hook>-", as much of the node name as fits, then "-"
// and 10 hex chars of a sha256 over the three; hook is pre-drain or
// post-upgrade. It never equals an upgrade Job's name.
func HookJobName(cuName, nodeName, hook string) string {
	return jobName(jobNamePrefix+hook+"-", cuName+"\x00"+nodeName+"\x00hook\x00"+hook, nodeName)
}

// jobName is prefix, the readable part of nodeName that fits, "-" and the
// hash of hashed.
func jobName(prefix, hashed, nodeName string) string {
	sum := sha256.Sum256([]byte(hashed))
	hash := hex.EncodeToString(sum[:])[:jobNameHashLen]

	part := nodeNamePart(nodeName, maxJobNameLen-len(prefix)-1-jobNameHashLen)
	if part == "" {
		return prefix + hash
	}
	return prefix + part + "-" + hash
}

// nodeNamePart returns the readable part of a Job name for nodeName: at most
// most characters of [a-z0-9-], neither starting nor ending with '-'.
func nodeNamePart(nodeName string, most int) string {
	var b strings.Builder
	b.Grow(min(len(nodeName), most))
	for i := 0; i < len(nodeName) && b.Len() < most; i++ {
		c := nodeName[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b.WriteByte(c)
		case c >= 'A' && c <= 'Z':
			b.WriteByte(c - 'A' + 'a')
		default:
			b.WriteByte('-')
		}
	}
	return strings.Trim(b.String(), "-")
}
