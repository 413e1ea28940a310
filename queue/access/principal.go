package access

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Scopes name what a credential may do; see docs/queued-api.md.
const (
	ScopeTickets   = "tickets"   // issue tickets
	ScopeWindows   = "windows"   // act on windows
	ScopeBookings  = "bookings"  // book, list, cancel
	ScopeHall      = "hall"      // the running line
	ScopeStats     = "stats"     // statistics and the call log
	ScopeTerminals = "terminals" // terminals and their devices
	ScopeAdmin     = "admin"     // all of them
)

// Scopes lists every scope, in the order they are shown.
var Scopes = []string{ScopeTickets, ScopeWindows, ScopeBookings, ScopeHall, ScopeStats, ScopeTerminals, ScopeAdmin}

// Role is what an account is for; it decides the account's scopes.
type Role string

const (
	// RoleOperator serves visitors at the windows the account lists.
	RoleOperator Role = "operator"
	// RoleSupervisor runs the hall: every scope but admin, every window.
	RoleSupervisor Role = "supervisor"
	// RoleAdmin may do everything.
	RoleAdmin Role = "admin"
)

// Roles lists every role, from least to most allowed.
var Roles = []Role{RoleOperator, RoleSupervisor, RoleAdmin}

// Scopes returns the scopes the role gives, or nil for an unknown role.
func (r Role) Scopes() []string {
	switch r {
	case RoleOperator:
		return []string{ScopeTickets, ScopeWindows}
	case RoleSupervisor:
		return slices.Clone(Scopes[:len(Scopes)-1])
	case RoleAdmin:
		return slices.Clone(Scopes)
	}
	return nil
}

func (r Role) valid() bool { return r.Scopes() != nil }

func checkRole(r Role) error {
	if !r.valid() {
		return fmt.Errorf("%w %q: expected operator, supervisor or admin", ErrBadRole, string(r))
	}
	return nil
}

// normalScopes checks scopes and returns them without repeats, in the
// order of Scopes.
func normalScopes(scopes []string) ([]string, error) {
	if len(scopes) == 0 {
		return nil, fmt.Errorf("%w: none given; expected some of %s", ErrBadScope, strings.Join(Scopes, ", "))
	}
	for _, s := range scopes {
		if !slices.Contains(Scopes, s) {
			return nil, fmt.Errorf("%w %q: expected some of %s", ErrBadScope, s, strings.Join(Scopes, ", "))
		}
	}
	var out []string
	for _, s := range Scopes {
		if slices.Contains(scopes, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

// Kinds of Principal.
const (
	KindUser  = "user"  // a person signed in with a session
	KindToken = "token" // a program with an API token
)

// Principal is who is asking: a signed-in account or an API token.
type Principal struct {
	Kind        string // KindUser or KindToken
	Name        string
	DisplayName string // accounts only
	Role        Role   // accounts only
	Scopes      []string
	// Windows the account may act on; empty: all. Only operators are
	// held to it (see MayWindow).
	Windows []int
}

// Has reports whether p may act with scope; admin implies every scope.
// A nil Principal has no scope.
func (p *Principal) Has(scope string) bool {
	if p == nil {
		return false
	}
	return slices.Contains(p.Scopes, scope) || slices.Contains(p.Scopes, ScopeAdmin)
}

// MayWindow reports whether p may act on window n: it needs the windows
// scope, and an operator account only the windows it lists (all when it
// lists none). Supervisors, admins and tokens with the scope may act on
// any window.
func (p *Principal) MayWindow(n int) bool {
	if !p.Has(ScopeWindows) {
		return false
	}
	if p.Kind != KindUser || p.Role != RoleOperator || len(p.Windows) == 0 {
		return true
	}
	return slices.Contains(p.Windows, n)
}

// MaySignInTo reports whether p is an account that may sign in to window
// n: one listing no windows, or listing n. Tokens never sign in.
func (p *Principal) MaySignInTo(n int) bool {
	return p != nil && p.Kind == KindUser && (len(p.Windows) == 0 || slices.Contains(p.Windows, n))
}

// describe says what p is and may do, for a 403 answer.
func (p *Principal) describe() string {
	has := strings.Join(p.Scopes, ", ")
	if has == "" {
		has = "no scope"
	}
	if p.Kind == KindToken {
		return fmt.Sprintf("token %s has %s", p.Name, has)
	}
	return fmt.Sprintf("account %s (%s) has %s", p.Name, p.Role, has)
}

func userPrincipal(u User) *Principal {
	return &Principal{Kind: KindUser, Name: u.Name, DisplayName: u.DisplayName, Role: u.Role,
		Scopes: u.Role.Scopes(), Windows: append([]int{}, u.Windows...)}
}

func tokenPrincipal(t Token) *Principal {
	return &Principal{Kind: KindToken, Name: t.Name, Scopes: slices.Clone(t.Scopes)}
}

type principalKey struct{}

// FromContext returns the principal a guard attached to the request's
// context, or nil when nobody is signed in.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// WithPrincipal returns ctx carrying p, for tests of handlers that read
// FromContext.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}
