package ports

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// User is one line of /etc/passwd, the parts that decide access.
type User struct {
	Name string `json:"name"`
	UID  int    `json:"uid"`
	GID  int    `json:"gid"` // the primary group
}

// Group is one line of /etc/group.
type Group struct {
	Name    string   `json:"name"`
	GID     int      `json:"gid"`
	Members []string `json:"members,omitempty"`
}

// Accounts are the machine's users and groups, read from /etc/passwd and
// /etc/group: the files, not NSS, since the service user is a local
// system user the cherga package makes.
type Accounts struct {
	Users  []User
	Groups []Group
}

// LoadAccounts reads passwd and group under the Etc root.
func LoadAccounts(r Roots) (*Accounts, error) {
	var a Accounts
	for _, f := range []struct {
		name  string
		parse func(io.Reader) error
	}{
		{"passwd", func(rd io.Reader) (err error) { a.Users, err = ParsePasswd(rd); return err }},
		{"group", func(rd io.Reader) (err error) { a.Groups, err = ParseGroup(rd); return err }},
	} {
		fh, err := os.Open(filepath.Join(r.etc(), f.name))
		if err != nil {
			return nil, fmt.Errorf("ports: %w", err)
		}
		err = f.parse(fh)
		fh.Close()
		if err != nil {
			return nil, fmt.Errorf("ports: %s: %w", f.name, err)
		}
	}
	return &a, nil
}

// maxLine bounds one line of passwd or group: a group of many members is
// long, but not this long.
const maxLine = 1 << 20

// fields splits the colon-separated lines of an /etc file, skipping
// comments, blank lines and NIS "+"/"-" entries; a line with fewer than n
// fields is skipped.
func fields(r io.Reader, n int, each func(f []string)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), maxLine)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" || line[0] == '#' || line[0] == '+' || line[0] == '-' {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) < n || f[0] == "" {
			continue
		}
		each(f)
	}
	return sc.Err()
}

func parseID(s string) (int, bool) {
	n, err := strconv.ParseUint(s, 10, 32)
	return int(n), err == nil
}

// ParsePasswd reads /etc/passwd lines (name:x:uid:gid:gecos:home:shell);
// malformed lines are skipped.
func ParsePasswd(r io.Reader) ([]User, error) {
	var out []User
	err := fields(r, 4, func(f []string) {
		uid, ok1 := parseID(f[2])
		gid, ok2 := parseID(f[3])
		if ok1 && ok2 {
			out = append(out, User{Name: f[0], UID: uid, GID: gid})
		}
	})
	return out, err
}

// ParseGroup reads /etc/group lines (name:x:gid:member,member);
// malformed lines are skipped.
func ParseGroup(r io.Reader) ([]Group, error) {
	var out []Group
	err := fields(r, 3, func(f []string) {
		gid, ok := parseID(f[2])
		if !ok {
			return
		}
		g := Group{Name: f[0], GID: gid}
		if len(f) > 3 {
			for m := range strings.SplitSeq(f[3], ",") {
				if m = strings.TrimSpace(m); m != "" {
					g.Members = append(g.Members, m)
				}
			}
		}
		out = append(out, g)
	})
	return out, err
}

// User finds a user by name.
func (a *Accounts) User(name string) (User, bool) {
	for _, u := range a.Users {
		if u.Name == name {
			return u, true
		}
	}
	return User{}, false
}

// UserByID finds a user by uid.
func (a *Accounts) UserByID(uid int) (User, bool) {
	for _, u := range a.Users {
		if u.UID == uid {
			return u, true
		}
	}
	return User{}, false
}

// GroupByName finds a group by name.
func (a *Accounts) GroupByName(name string) (Group, bool) {
	for _, g := range a.Groups {
		if g.Name == name {
			return g, true
		}
	}
	return Group{}, false
}

// GroupName is a gid's name, or the number when /etc/group has none.
func (a *Accounts) GroupName(gid int) string {
	for _, g := range a.Groups {
		if g.GID == gid {
			return g.Name
		}
	}
	return strconv.Itoa(gid)
}

// GIDs are the groups u is in by /etc/passwd and /etc/group: its primary
// group and every group that lists it, plus the named extra groups (a
// systemd unit's SupplementaryGroups=) that exist.
func (a *Accounts) GIDs(u User, extra ...string) []int {
	out := []int{u.GID}
	for _, g := range a.Groups {
		if slices.Contains(g.Members, u.Name) || slices.Contains(extra, g.Name) {
			out = append(out, g.GID)
		}
	}
	return out
}

// Node is a /dev node's owner, group and permission bits.
type Node struct {
	Mode  fs.FileMode `json:"-"`
	Perm  string      `json:"mode"` // 0660
	UID   int         `json:"uid"`
	Owner string      `json:"owner"`
	GID   int         `json:"gid"`
	Group string      `json:"group"` // the group a user must be in
}

// StatNode looks at a node (following symlinks); nil when it is not
// there. acc names the owner and group; nil leaves the numbers.
func StatNode(path string, acc *Accounts) *Node {
	fi, err := os.Stat(path)
	if err != nil {
		return nil
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	n := &Node{Mode: fi.Mode(), Perm: fmt.Sprintf("%04o", fi.Mode().Perm()), UID: int(st.Uid), GID: int(st.Gid)}
	n.Owner, n.Group = strconv.Itoa(n.UID), strconv.Itoa(n.GID)
	if acc != nil {
		if u, ok := acc.UserByID(n.UID); ok {
			n.Owner = u.Name
		}
		n.Group = acc.GroupName(n.GID)
	}
	return n
}

// Allows reports whether a process of uid in groups gids may open the
// node for reading and writing, by its mode bits (root always may; ACLs
// are not looked at).
func (n *Node) Allows(uid int, gids []int) bool { return n.May(uid, gids, 0o6) }

// May is Allows for other access: want is rwx bits, 0o6 read and write,
// 0o3 making files in a directory.
func (n *Node) May(uid int, gids []int, want fs.FileMode) bool {
	perm := n.Mode.Perm()
	switch {
	case uid == 0:
		return true
	case uid == n.UID:
		return perm>>6&want == want
	case slices.Contains(gids, n.GID):
		return perm>>3&want == want
	default:
		return perm&want == want
	}
}
