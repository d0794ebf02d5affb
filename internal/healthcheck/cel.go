// Package healthcheck compiles and evaluates the CEL expressions of
// spec.health.checks with the API server's own CEL library: the same base
// environment, function libraries and cost limit as a CRD's validation
// rules, with one variable, object, the checked object as JSON.
package healthcheck

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/google/cel-go/cel"
	"k8s.io/apimachinery/pkg/util/version"
	apiservercel "k8s.io/apiserver/pkg/apis/cel"
	"k8s.io/apiserver/pkg/cel/environment"
)

// Program is a compiled expression.
type Program struct {
	prg cel.Program
}

// env is the environment the expressions compile in: the Kubernetes base
// environment of the API server version nodewave is built with, and
// object.
var env = sync.OnceValues(func() (*cel.Env, error) {
	set, err := environment.MustBaseEnvSet(environment.DefaultCompatibilityVersion()).Extend(environment.VersionedOptions{
		IntroducedVersion: version.MajorMinor(1, 0),
		EnvOptions:        []cel.EnvOption{cel.Variable("object", cel.DynType)},
	})
	if err != nil {
		return nil, err
	}
	return set.NewExpressionsEnv(), nil
})

// programs caches the compiled programs by expression: a pass judges the
// checks every time, and compiling costs far more than evaluating.
var programs sync.Map // string -> *Program

// Compile compiles expr, which must be a bool (or dyn: judged when it is
// evaluated). Its errors name the place in expr.
func Compile(expr string) (*Program, error) {
	if p, ok := programs.Load(expr); ok {
		return p.(*Program), nil
	}
	e, err := env()
	if err != nil {
		return nil, err
	}
	ast, iss := e.Compile(expr)
	if iss.Err() != nil {
		return nil, iss.Err()
	}
	if t := ast.OutputType(); !t.IsExactType(cel.BoolType) && !t.IsExactType(cel.DynType) {
		return nil, fmt.Errorf("the expression is a %s, not a bool", t)
	}
	prg, err := e.Program(ast, cel.CostLimit(apiservercel.PerCallLimit), cel.InterruptCheckFrequency(100))
	if err != nil {
		return nil, err
	}
	p := &Program{prg: prg}
	programs.Store(expr, p)
	return p, nil
}

// Eval evaluates the program over object (an unstructured object's
// content). An error is an expression that could not be evaluated (a
// field not there, the cost limit reached, not a bool).
func (p *Program) Eval(ctx context.Context, object map[string]any) (bool, error) {
	out, _, err := p.prg.ContextEval(ctx, map[string]any{"object": object})
	if err != nil {
		return false, err
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, errors.New("the expression did not evaluate to a bool")
	}
	return b, nil
}
