package security

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
)

// Only names the policy admits are ever sent to DNS: an endpoint name an
// attacker chose (in a cloned repository's config, a redirect, a proxied
// request) is refused without a lookup.
func TestOnlyAllowedNamesAreLookedUp(t *testing.T) {
	ctx := context.Background()
	res := testResolver()
	res.names["attacker.invalid"] = []string{"10.9.9.9"}
	fn := &fakeNet{}
	policy := Policy{AllowedHosts: []string{"gpu01.lab.internal", "*.cluster.lab.internal"}, AllowedCIDRs: []string{"10.0.0.0/8"}}
	d, _ := newTestDialer(t, policy, fn, res)

	for _, host := range []string{"attacker.invalid", "api.example.com", "gpu01.lab.internal.attacker.invalid", "lab.internal", "xgpu01.lab.internal"} {
		if _, err := d.DialContext(ctx, "tcp", host+":11434"); err == nil {
			t.Errorf("%s allowed", host)
		} else if de, ok := IsDenied(err); !ok || de.Rule != RuleHostNotListed {
			t.Errorf("%s: %v, want refusal by name", host, err)
		}
		if v := d.Check(ctx, "http://"+host+":11434"); v.Allowed || v.Rule != RuleHostNotListed {
			t.Errorf("Check(%s) = %+v", host, v)
		}
		if d.MayResolve(host) {
			t.Errorf("MayResolve(%s) = true", host)
		}
	}
	if len(res.lookups) != 0 || len(fn.calls()) != 0 {
		t.Fatalf("refused names reached DNS %v or a socket %v", res.lookups, fn.calls())
	}
	// Listed names are looked up (to check their addresses); localhost and
	// literal addresses never are.
	for _, host := range []string{"gpu01.lab.internal", "a.cluster.lab.internal", "localhost", "127.0.0.1", "10.1.2.3", "[::1]"} {
		if !d.MayResolve(host) {
			t.Errorf("MayResolve(%s) = false", host)
		}
		d.Check(ctx, "http://"+host+":11434")
	}
	if want := []string{"gpu01.lab.internal", "a.cluster.lab.internal"}; !slices.Equal(res.lookups, want) {
		t.Errorf("lookups %v, want %v", res.lookups, want)
	}

	// A redirect and a proxied request to an unlisted name: no lookup either.
	res.lookups = nil
	req, _ := http.NewRequest(http.MethodGet, "http://attacker.invalid/x", nil)
	sent := false
	proxied := &destinationCheck{d: d, next: roundTripFunc(func(*http.Request) (*http.Response, error) {
		sent = true
		return nil, errors.New("not sent")
	})}
	if _, err := proxied.RoundTrip(req); err == nil {
		t.Fatal("proxied request to an unlisted name allowed")
	}
	if len(res.lookups) != 0 || sent {
		t.Errorf("proxied request looked up %v (sent: %v)", res.lookups, sent)
	}

	// With allow_external every name may be looked up.
	open, _ := newTestDialer(t, Policy{AllowExternal: true}, &fakeNet{}, res)
	if !open.MayResolve("attacker.invalid") {
		t.Error("allow_external: MayResolve = false")
	}
	if v := open.Check(ctx, "http://attacker.invalid:1"); !v.Allowed || !slices.Contains(res.lookups, "attacker.invalid") {
		t.Errorf("allow_external: %+v, lookups %v", v, res.lookups)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
