package drainpolicy

import "testing"

func TestEvictingOrder(t *testing.T) {
	j := func(v Verdict, order int32) Judgement { return Judgement{Verdict: v, Order: order} }
	for _, tc := range []struct {
		name   string
		judged []Judgement
		want   int32
		ok     bool
	}{
		{"no pod", nil, 0, false},
		{"only pods that stay or are skipped", []Judgement{j(Stays, -10), j(Skipped, -20)}, 0, false},
		{"the lowest order of the pods to evict", []Judgement{j(Evicted, 10), j(Evicted, 0), j(Evicted, 20)}, 0, true},
		{"negative orders first", []Judgement{j(Evicted, 0), j(Evicted, -1)}, -1, true},
		{"a pod terminating holds its order", []Judgement{j(Leaving, 0), j(Evicted, 10)}, 0, true},
		{"a pod waited for holds its order", []Judgement{j(WaitedFor, 0), j(Evicted, 10)}, 0, true},
		{"a blocked pod holds its order", []Judgement{j(Blocked, 0), j(Evicted, 10)}, 0, true},
		{"skipped pods never hold an order", []Judgement{j(Skipped, 0), j(Evicted, 10)}, 10, true},
		{"pods that stay never hold an order", []Judgement{j(Stays, 0), j(Evicted, 10)}, 10, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := EvictingOrder(tc.judged)
			if got != tc.want || ok != tc.ok {
				t.Fatalf("EvictingOrder = %d, %v; want %d, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestHeldBack(t *testing.T) {
	for _, tc := range []struct {
		name string
		j    Judgement
		want bool
	}{
		{"a pod of the evicting order goes", Judgement{Verdict: Evicted, Order: 0}, false},
		{"a pod of a higher order waits", Judgement{Verdict: Evicted, Order: 10}, true},
		{"a pod terminating is not held: it is leaving", Judgement{Verdict: Leaving, Order: 10}, false},
		{"a pod waited for is not held: it is never evicted", Judgement{Verdict: WaitedFor, Order: 10}, false},
		{"a blocked pod is not held: it is never evicted", Judgement{Verdict: Blocked, Order: 10}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := HeldBack(tc.j, 0); got != tc.want {
				t.Fatalf("HeldBack(%+v, 0) = %v, want %v", tc.j, got, tc.want)
			}
		})
	}
}
