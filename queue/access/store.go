package access

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/queue/datafile"
)

// User is an account of a person who signs in.
type User struct {
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
	Role        Role   `json:"role"`
	// Windows the account may sign in to; empty: all.
	Windows []int `json:"windows,omitempty"`
	// PasswordHash is an argon2id PHC string, never the password.
	PasswordHash string `json:"password_hash"`
	Disabled     bool   `json:"disabled,omitempty"`
	// PasswordChanged ends every session made before it.
	PasswordChanged time.Time `json:"password_changed"`
}

// Token is an API token of a program. Only the SHA-256 of the token is
// kept: whoever reads access.json still cannot use it.
type Token struct {
	Name    string    `json:"name"`
	SHA256  string    `json:"sha256"` // hex
	Scopes  []string  `json:"scopes"`
	Created time.Time `json:"created"`
}

// storeFile is access.json.
type storeFile struct {
	Version int     `json:"version"`
	Users   []User  `json:"users"`
	Tokens  []Token `json:"tokens"`
}

const (
	storeVersion = 1
	// maxStoreSize keeps a wrong file (a log, a dump) from being read
	// whole; thousands of accounts fit in far less.
	maxStoreSize = 8 << 20
	// recheckEvery bounds how often a running server looks at the file
	// for edits made from a shell.
	recheckEvery = time.Second
	tokenPrefix  = "cq_"
)

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{0,31}$`)

func checkName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("%w %q: use 1–32 lowercase letters, digits, dots and dashes, starting with a letter or digit", ErrBadName, name)
	}
	return nil
}

func checkDisplayName(s string) error {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > 64 || strings.ContainsFunc(s, unicode.IsControl) {
		return fmt.Errorf("%w: display name %q: use up to 64 printable characters", ErrBadName, s)
	}
	return nil
}

// normalWindows checks window numbers and returns them sorted.
func normalWindows(ws []int) ([]int, error) {
	out := slices.Clone(ws)
	slices.Sort(out)
	for i, n := range out {
		if n < 1 {
			return nil, fmt.Errorf("%w %d: window numbers start at 1", ErrBadWindow, n)
		}
		if i > 0 && out[i-1] == n {
			return nil, fmt.Errorf("%w %d: listed twice", ErrBadWindow, n)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// now is the store's time now.
func (s *Store) now() time.Time { return s.clock.Now() }

// StoreOptions tune a Store; the zero value is right for production.
type StoreOptions struct {
	// Clock stamps password changes and tokens and paces the file's
	// recheck; nil: the real clock.
	Clock clockwork.Clock
	// Log receives reload failures; nil: discard.
	Log *slog.Logger
	// HashParams are the costs of new password hashes; zero:
	// DefaultHashParams. Only tests should lower them.
	HashParams HashParams
}

// Store holds the accounts and API tokens of access.json. A running
// server and `queued user` from a shell may use the same file at once:
// every change is a read-modify-write under an exclusive flock on
// access.json.lock, and each Store notices changes made by others.
type Store struct {
	path   string
	clock  clockwork.Clock
	log    *slog.Logger
	params HashParams

	mu      sync.Mutex
	users   map[string]User
	tokens  map[string]Token // by SHA256
	loaded  os.FileInfo      // what the data came from; nil: no file
	checked time.Time
}

// OpenStore reads the accounts file at path. A missing file is an empty
// store, made at the first change. A file that group or others may read
// is refused.
func OpenStore(path string, opts StoreOptions) (*Store, error) {
	s := &Store{path: path, clock: opts.Clock, log: opts.Log, params: opts.HashParams}
	if s.clock == nil {
		s.clock = clockwork.NewRealClock()
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.params == (HashParams{}) {
		s.params = DefaultHashParams
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.load(); err != nil {
		return nil, err
	}
	s.checked = s.now()
	return s, nil
}

// Path returns the accounts file's path.
func (s *Store) Path() string { return s.path }

// load replaces the data with the file's. Called with s.mu held.
func (s *Store) load() error {
	f, fi, err := readStore(s.path)
	if err != nil {
		return err
	}
	s.set(f, fi)
	return nil
}

func (s *Store) set(f storeFile, fi os.FileInfo) {
	s.users = make(map[string]User, len(f.Users))
	for _, u := range f.Users {
		s.users[u.Name] = u
	}
	s.tokens = make(map[string]Token, len(f.Tokens))
	for _, t := range f.Tokens {
		s.tokens[t.SHA256] = t
	}
	s.loaded = fi
}

// Reload reads the file again now. On error the data already read stays.
func (s *Store) Reload() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checked = s.now()
	return s.load()
}

// refresh reloads the file when it changed since it was read, looking at
// most once a second so that a busy server does not stat on every
// request. A broken or insecure file is logged and the last good data
// stays: one bad hand edit must not sign the whole office out. Called
// with s.mu held.
func (s *Store) refresh() {
	now := s.now()
	if now.Sub(s.checked) < recheckEvery && !now.Before(s.checked) {
		return
	}
	s.checked = now
	fi, err := os.Stat(s.path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && s.loaded == nil:
		return
	case err == nil && s.loaded != nil && os.SameFile(fi, s.loaded) &&
		fi.Size() == s.loaded.Size() && fi.ModTime().Equal(s.loaded.ModTime()):
		return
	}
	had := s.loaded != nil
	if err := s.load(); err != nil {
		s.log.Error("accounts file changed but cannot be read: the accounts read before stay", "path", s.path, "err", err)
		return
	}
	if had && s.loaded == nil {
		s.log.Warn("accounts file removed: nobody may sign in and every API token is refused", "path", s.path)
	}
}

// readStore reads and checks the accounts file; a missing file is empty.
func readStore(path string) (storeFile, os.FileInfo, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return storeFile{Version: storeVersion}, nil, nil
	}
	if errors.Is(err, fs.ErrPermission) {
		return storeFile{}, nil, fmt.Errorf("access: %w: run queued user and queued token as the user queued runs as (sudo -u that-user), or chown the file to it", err)
	}
	if err != nil {
		return storeFile{}, nil, fmt.Errorf("access: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return storeFile{}, nil, fmt.Errorf("access: %w", err)
	}
	if err := checkPrivate(path, fi); err != nil {
		return storeFile{}, nil, err
	}
	b, err := io.ReadAll(io.LimitReader(f, maxStoreSize+1))
	if err != nil {
		return storeFile{}, nil, fmt.Errorf("access: %s: %w", path, err)
	}
	if len(b) > maxStoreSize {
		return storeFile{}, nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrBadStore, path, maxStoreSize)
	}
	sf, err := parseStore(b)
	if err != nil {
		return storeFile{}, nil, fmt.Errorf("%w: %s: %w", ErrBadStore, path, err)
	}
	return sf, fi, nil
}

// checkPrivate refuses a file that anyone but its owner may read or
// write: it holds the password hashes.
func checkPrivate(path string, fi os.FileInfo) error {
	if !permissionsMatter {
		return nil
	}
	if mode := fi.Mode().Perm(); mode&0o077 != 0 {
		return fmt.Errorf("%w: %s has mode %04o: run chmod 600 %s", ErrInsecureFile, path, mode, path)
	}
	return nil
}

// parseStore reads access.json strictly: unknown fields and trailing
// data are refused, so a misspelt hand edit is an error, not a silently
// ignored setting.
func parseStore(b []byte) (storeFile, error) {
	var f storeFile
	if len(bytes.TrimSpace(b)) == 0 {
		// An empty file (made with touch and chmod) has no accounts yet.
		return storeFile{Version: storeVersion}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return storeFile{}, err
	}
	if dec.More() {
		return storeFile{}, errors.New("data after the JSON object")
	}
	if f.Version != 0 && f.Version != storeVersion {
		return storeFile{}, fmt.Errorf("version %d: this queued reads version %d", f.Version, storeVersion)
	}
	f.Version = storeVersion
	if err := f.check(); err != nil {
		return storeFile{}, err
	}
	return f, nil
}

// check validates every entry and puts lists in their normal order.
func (f *storeFile) check() error {
	names := map[string]bool{}
	for i := range f.Users {
		u := &f.Users[i]
		where := fmt.Sprintf("users[%d]", i)
		if err := checkName(u.Name); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if names[u.Name] {
			return fmt.Errorf("%s: %w: %s is listed twice", where, ErrUserExists, u.Name)
		}
		names[u.Name] = true
		if err := checkDisplayName(u.DisplayName); err != nil {
			return fmt.Errorf("%s (%s): %w", where, u.Name, err)
		}
		if err := checkRole(u.Role); err != nil {
			return fmt.Errorf("%s (%s): %w", where, u.Name, err)
		}
		ws, err := normalWindows(u.Windows)
		if err != nil {
			return fmt.Errorf("%s (%s): %w", where, u.Name, err)
		}
		u.Windows = ws
		if _, err := parsePHC(u.PasswordHash); err != nil {
			return fmt.Errorf("%s (%s): %w", where, u.Name, err)
		}
	}
	names = map[string]bool{}
	sums := map[string]bool{}
	for i := range f.Tokens {
		t := &f.Tokens[i]
		where := fmt.Sprintf("tokens[%d]", i)
		if err := checkName(t.Name); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if names[t.Name] {
			return fmt.Errorf("%s: %w: %s is listed twice", where, ErrTokenExists, t.Name)
		}
		names[t.Name] = true
		if b, err := hex.DecodeString(t.SHA256); err != nil || len(b) != sha256.Size || t.SHA256 != strings.ToLower(t.SHA256) {
			return fmt.Errorf("%s (%s): %w: sha256 must be 64 lowercase hex digits", where, t.Name, ErrBadStore)
		}
		if sums[t.SHA256] {
			return fmt.Errorf("%s (%s): %w: the same sha256 twice", where, t.Name, ErrTokenExists)
		}
		sums[t.SHA256] = true
		sc, err := normalScopes(t.Scopes)
		if err != nil {
			return fmt.Errorf("%s (%s): %w", where, t.Name, err)
		}
		t.Scopes = sc
	}
	slices.SortFunc(f.Users, func(a, b User) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(f.Tokens, func(a, b Token) int { return strings.Compare(a.Name, b.Name) })
	return nil
}

func (f *storeFile) encode() []byte {
	if f.Users == nil {
		f.Users = []User{}
	}
	if f.Tokens == nil {
		f.Tokens = []Token{}
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		panic("access: encoding accounts: " + err.Error()) // plain data: cannot fail
	}
	return append(b, '\n')
}

// edit applies change to the file's current content under the file lock
// and writes the result atomically: another process's edit made a moment
// before is never lost.
func (s *Store) edit(change func(f *storeFile) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	dir := filepath.Dir(s.path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("access: %w", err)
	}
	unlock, err := lockFile(s.path + ".lock")
	if err != nil {
		return fmt.Errorf("access: lock %s.lock: %w", s.path, err)
	}
	defer unlock()
	f, _, err := readStore(s.path)
	if err != nil {
		return err
	}
	if err := change(&f); err != nil {
		return err
	}
	if err := f.check(); err != nil {
		return err
	}
	fi, err := writeAtomic(s.path, f.encode())
	if err != nil {
		return err
	}
	s.set(f, fi)
	s.checked = s.now()
	return nil
}

// writeAtomic replaces path with b so that a crash leaves either the old
// file or the new one, never half of one: temp file, owner (see
// datafile.KeepOwner), fsync, rename, fsync of the directory.
func writeAtomic(path string, b []byte) (os.FileInfo, error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*") // mode 0600
	if err != nil {
		return nil, fmt.Errorf("access: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename: nothing to remove
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("access: write %s: %w", tmp.Name(), err)
	}
	// queued user/token from a root shell must not leave a root-owned
	// file that queued, running as its own user, cannot read.
	if err := datafile.KeepOwner(tmp, path); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("access: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("access: sync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("access: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return nil, fmt.Errorf("access: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return nil, fmt.Errorf("access: sync %s: %w", dir, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("access: %w", err)
	}
	return fi, nil
}

// User returns the account called name.
func (s *Store) User(name string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refresh()
	u, ok := s.users[name]
	u.Windows = slices.Clone(u.Windows)
	return u, ok
}

// Users returns every account, by name.
func (s *Store) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refresh()
	out := make([]User, 0, len(s.users))
	for _, u := range s.users {
		u.Windows = slices.Clone(u.Windows)
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b User) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Tokens returns every API token (their hashes), by name.
func (s *Store) Tokens() []Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refresh()
	out := make([]Token, 0, len(s.tokens))
	for _, t := range s.tokens {
		t.Scopes = slices.Clone(t.Scopes)
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b Token) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// tokenFor finds the token whose SHA-256 is that of secret. Looking up by
// hash means the secret itself is never compared, so timing tells
// nothing about it.
func (s *Store) tokenFor(secret string) (Token, bool) {
	sum := sha256.Sum256([]byte(secret))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refresh()
	t, ok := s.tokens[hex.EncodeToString(sum[:])]
	t.Scopes = slices.Clone(t.Scopes)
	return t, ok
}

// AddUser adds an account with password (hashed here; u.PasswordHash is
// ignored). An empty DisplayName becomes the name.
func (s *Store) AddUser(u User, password string) error {
	if err := checkName(u.Name); err != nil {
		return err
	}
	if err := checkNewPassword(password); err != nil {
		return err
	}
	hash, err := HashPassword(password, s.params)
	if err != nil {
		return err
	}
	if u.DisplayName == "" {
		u.DisplayName = u.Name
	}
	u.PasswordHash, u.PasswordChanged = hash, s.now()
	return s.edit(func(f *storeFile) error {
		for _, o := range f.Users {
			if o.Name == u.Name {
				return fmt.Errorf("%w: %s; change it with user set or user passwd, or remove it first", ErrUserExists, u.Name)
			}
		}
		f.Users = append(f.Users, u)
		return nil
	})
}

// SetPassword gives the account a new password, which ends its sessions.
func (s *Store) SetPassword(name, password string) error {
	if err := checkNewPassword(password); err != nil {
		return err
	}
	hash, err := HashPassword(password, s.params)
	if err != nil {
		return err
	}
	now := s.now()
	return s.UpdateUser(name, func(u *User) {
		u.PasswordHash, u.PasswordChanged = hash, now
	})
}

// UpdateUser changes the account called name with change, which may set
// DisplayName, Role, Windows and Disabled; the name stays.
func (s *Store) UpdateUser(name string, change func(u *User)) error {
	return s.edit(func(f *storeFile) error {
		for i := range f.Users {
			if f.Users[i].Name == name {
				change(&f.Users[i])
				f.Users[i].Name = name
				return nil
			}
		}
		return fmt.Errorf("%w: %s (see user list)", ErrNoUser, name)
	})
}

// RemoveUser removes the account; its sessions end.
func (s *Store) RemoveUser(name string) error {
	return s.edit(func(f *storeFile) error {
		for i, u := range f.Users {
			if u.Name == name {
				f.Users = slices.Delete(f.Users, i, i+1)
				return nil
			}
		}
		return fmt.Errorf("%w: %s (see user list)", ErrNoUser, name)
	})
}

// AddToken makes an API token with scopes and returns it. Only its
// SHA-256 is stored: the caller must show it now or lose it.
func (s *Store) AddToken(name string, scopes []string) (string, error) {
	if err := checkName(name); err != nil {
		return "", err
	}
	sc, err := normalScopes(scopes)
	if err != nil {
		return "", err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("access: token: %w", err)
	}
	secret := tokenPrefix + base64.RawURLEncoding.EncodeToString(raw)
	sum := sha256.Sum256([]byte(secret))
	t := Token{Name: name, SHA256: hex.EncodeToString(sum[:]), Scopes: sc, Created: s.now()}
	err = s.edit(func(f *storeFile) error {
		for _, o := range f.Tokens {
			if o.Name == name {
				return fmt.Errorf("%w: %s; remove it first with token -remove %s", ErrTokenExists, name, name)
			}
		}
		f.Tokens = append(f.Tokens, t)
		return nil
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// RemoveToken removes the API token called name; programs using it get
// 401 from then on.
func (s *Store) RemoveToken(name string) error {
	return s.edit(func(f *storeFile) error {
		for i, t := range f.Tokens {
			if t.Name == name {
				f.Tokens = slices.Delete(f.Tokens, i, i+1)
				return nil
			}
		}
		return fmt.Errorf("%w: %s (see token -list)", ErrNoToken, name)
	})
}
