package controller

import (
	"fmt"
	"strings"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/nodeview"
)

// maxPriorityErrors bounds the nodes an InvalidPriority message names.
const maxPriorityErrors = 5

// checkPriorities holds new starts while a selected node's priority
// (spec.priority) is not an integer: nodewave does not guess where such a
// node goes in the order. Nodes in flight carry on.
func checkPriorities(s *scope) *blocker {
	if s.cu.Spec.Priority == nil {
		return nil
	}
	var problems []string
	bad := 0
	for _, name := range s.order {
		if _, err := nodeview.Priority(s.nodes[name], s.cu); err != nil {
			if bad++; bad <= maxPriorityErrors {
				problems = append(problems, err.Error())
			}
		}
	}
	if bad == 0 {
		return nil
	}
	msg := strings.Join(problems, "; ")
	if bad > maxPriorityErrors {
		msg += fmt.Sprintf("; and %d more", bad-maxPriorityErrors)
	}
	return &blocker{reason: upgradev1alpha1.ReasonInvalidPriority,
		message: "spec.priority orders the nodes by an integer, and nothing new starts until every selected node's is one: " + msg}
}
