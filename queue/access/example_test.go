package access_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/cherga/kiosk/queue/access"
)

// A server guarded by access: the whole handler in Protect, the sign-in
// routes, and each API route wrapped in what it needs.
func Example() {
	dir, _ := os.MkdirTemp("", "access-example")
	defer os.RemoveAll(dir)

	// Cheap hashes for the example only; leave HashParams zero in a server.
	store, err := access.OpenStore(filepath.Join(dir, "access.json"),
		access.StoreOptions{HashParams: access.HashParams{Memory: 64, Time: 1, Threads: 1}})
	if err != nil {
		fmt.Println(err)
		return
	}
	// What `queued user add olena -role operator -windows 3` does.
	if err := store.AddUser(access.User{Name: "olena", DisplayName: "Олена Коваль", Role: access.RoleOperator,
		Windows: []int{3}}, "correct horse battery"); err != nil {
		fmt.Println(err)
		return
	}
	db, err := bolt.Open(filepath.Join(dir, "queued.db"), 0o600, nil) // queued's own database
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	guard, err := access.New(store, db, access.Options{Names: []string{"queue.office.example"}})
	if err != nil {
		fmt.Println(err)
		return
	}

	mux := http.NewServeMux()
	guard.Routes(mux) // /api/v1/login, /api/v1/logout, /api/v1/me, /login
	mux.Handle("POST /api/v1/windows/{n}/next", guard.Require(access.ScopeWindows,
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p := access.FromContext(r.Context())
			var n int
			fmt.Sscan(r.PathValue("n"), &n)
			if !p.MayWindow(n) {
				http.Error(w, "not your window", http.StatusForbidden)
				return
			}
			fmt.Fprintf(w, "%s calls the next visitor to window %d\n", p.DisplayName, n)
		})))
	srv := httptest.NewServer(guard.Protect(mux))
	defer srv.Close()

	// post answers the status, the body and the cookies set.
	post := func(path, body string, cookies ...*http.Cookie) (string, string, []*http.Cookie) {
		req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(body))
		for _, c := range cookies {
			req.AddCookie(c)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.Status, string(b), resp.Cookies()
	}
	status, _, _ := post("/api/v1/windows/3/next", "")
	fmt.Println("without signing in:", status)
	status, _, cookies := post("/api/v1/login", `{"name":"olena","password":"correct horse battery"}`)
	fmt.Println("sign-in:", status)
	for _, n := range []string{"3", "4"} {
		status, body, _ := post("/api/v1/windows/"+n+"/next", "", cookies...)
		fmt.Printf("window %s: %s: %s", n, status, body)
	}
	// Output:
	// without signing in: 401 Unauthorized
	// sign-in: 200 OK
	// window 3: 200 OK: Олена Коваль calls the next visitor to window 3
	// window 4: 403 Forbidden: not your window
}

func ExamplePrincipal_MayWindow() {
	operator := &access.Principal{Kind: access.KindUser, Name: "olena", Role: access.RoleOperator,
		Scopes: access.RoleOperator.Scopes(), Windows: []int{3}}
	supervisor := &access.Principal{Kind: access.KindUser, Name: "maria", Role: access.RoleSupervisor,
		Scopes: access.RoleSupervisor.Scopes()}
	fmt.Println(operator.MayWindow(3), operator.MayWindow(4), operator.Has(access.ScopeStats))
	fmt.Println(supervisor.MayWindow(4), supervisor.Has(access.ScopeStats), supervisor.Has(access.ScopeAdmin))
	// Output:
	// true false false
	// true true false
}
