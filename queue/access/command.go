package access

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"golang.org/x/term"
)

// Command runs `queued user …` and `queued token …` (args starts with
// "user" or "token") on the accounts file at storePath and returns the
// exit status: 0 done, 2 refused, with one line on stderr saying what to
// fix. It is safe to run while queued runs: the server sees the change
// within a second.
func Command(args []string, stdin io.Reader, stdout, stderr io.Writer, storePath string) int {
	return runCommand(args, stdin, stdout, stderr, storePath, StoreOptions{})
}

// cli is one run of Command.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	path           string
	opts           StoreOptions
	lines          *bufio.Reader // stdin, read a line at a time
}

// runCommand is Command with store options, so tests can lower the hash
// cost.
func runCommand(args []string, stdin io.Reader, stdout, stderr io.Writer, storePath string, opts StoreOptions) int {
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr, path: storePath, opts: opts}
	if len(args) == 0 {
		fmt.Fprintln(stderr, "queued: expected user or token (see queued user -h, queued token -h)")
		return 2
	}
	var err error
	switch args[0] {
	case "user":
		err = c.user(args[1:])
	case "token":
		err = c.token(args[1:])
	default:
		err = fmt.Errorf("queued %s: expected user or token", args[0])
	}
	var help helpShown
	switch {
	case errors.As(err, &help):
		fmt.Fprint(stdout, string(help))
		return 0
	case err != nil:
		fmt.Fprintln(stderr, strings.ReplaceAll(err.Error(), "access: ", ""))
		return 2
	}
	return 0
}

// helpShown carries a usage text asked for with -h.
type helpShown string

func (h helpShown) Error() string { return string(h) }

const userUsage = `queued user add NAME -role operator|supervisor|admin [-windows 1,2] [-display "Олена Коваль"] [-password-stdin]
queued user passwd NAME [-password-stdin]
queued user set NAME [-role ROLE] [-windows 1,2|all] [-display TEXT] [-disabled=true|false]
queued user remove NAME
queued user list
`

var userCommands = map[string]string{
	"add": `usage: queued user add NAME -role operator|supervisor|admin [-windows 1,2] [-display "Олена Коваль"] [-password-stdin]

Adds an account. The password is asked twice on the terminal, or read as
one line from stdin with -password-stdin (or when stdin is not a
terminal); it needs at least 10 characters.
  -role      operator (tickets and windows, for its windows), supervisor
             (every scope but admin) or admin (everything)
  -windows   the windows the account may sign in to, e.g. 1,2; none: all
  -display   the name shown on the hall and window displays; none: NAME
`,
	"passwd": `usage: queued user passwd NAME [-password-stdin]

Sets a new password; every session of the account ends.
`,
	"set": `usage: queued user set NAME [-role ROLE] [-windows 1,2|all] [-display TEXT] [-disabled=true|false]

Changes only what is given. A disabled account cannot sign in and its
sessions end.
`,
	"remove": `usage: queued user remove NAME

Removes the account; its sessions end.
`,
	"list": `usage: queued user list

Lists the accounts.
`,
}

func (c *cli) user(args []string) error {
	if len(args) == 0 {
		return errors.New("queued user: expected add, passwd, set, remove or list (see queued user -h)")
	}
	if args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		return helpShown("usage:\n" + userUsage)
	}
	sub, args := args[0], args[1:]
	usage, ok := userCommands[sub]
	if !ok {
		return fmt.Errorf("queued user %s: expected add, passwd, set, remove or list", sub)
	}
	cmd := "queued user " + sub
	fs := newFlags(cmd)
	var (
		role, windows, display  string
		passwordStdin, disabled bool
	)
	switch sub {
	case "add", "set":
		fs.StringVar(&role, "role", "", "")
		fs.StringVar(&windows, "windows", "", "")
		fs.StringVar(&display, "display", "", "")
		if sub == "set" {
			fs.BoolVar(&disabled, "disabled", false, "")
		}
	}
	if sub == "add" || sub == "passwd" {
		fs.BoolVar(&passwordStdin, "password-stdin", false, "")
	}
	names, err := parseFlags(fs, args, usage)
	if err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if sub == "list" {
		if len(names) != 0 {
			return fmt.Errorf("%s: takes no NAME", cmd)
		}
	} else if len(names) != 1 {
		return fmt.Errorf("%s: give one account NAME (see %s -h)", cmd, cmd)
	}
	s, err := OpenStore(c.path, c.opts)
	if err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	wrap := func(err error) error {
		if err != nil {
			return fmt.Errorf("%s: %w", cmd, err)
		}
		return nil
	}
	switch sub {
	case "list":
		return c.listUsers(s)
	case "remove":
		if err := s.RemoveUser(names[0]); err != nil {
			return wrap(err)
		}
		fmt.Fprintf(c.stdout, "removed account %s; its sessions have ended\n", names[0])
		return nil
	}
	name := names[0]
	var ws []int
	if given["windows"] {
		if ws, err = parseWindows(windows); err != nil {
			return wrap(err)
		}
	}
	if given["role"] {
		if err := checkRole(Role(role)); err != nil {
			return wrap(err)
		}
	}
	switch sub {
	case "add":
		if !given["role"] {
			return fmt.Errorf("%s: -role is required: operator, supervisor or admin", cmd)
		}
		if err := checkName(name); err != nil {
			return wrap(err)
		}
		if _, exists := s.User(name); exists {
			return fmt.Errorf("%s: account %s exists; change it with queued user set or queued user passwd", cmd, name)
		}
		password, err := c.newPassword(name, passwordStdin)
		if err != nil {
			return wrap(err)
		}
		u := User{Name: name, DisplayName: display, Role: Role(role), Windows: ws}
		if err := s.AddUser(u, password); err != nil {
			return wrap(err)
		}
		u, _ = s.User(name)
		fmt.Fprintf(c.stdout, "added %s %s (%s), %s\n", u.Role, u.Name, u.DisplayName, windowsText(u.Windows))
	case "passwd":
		if _, ok := s.User(name); !ok {
			return fmt.Errorf("%s: %w: %s (see queued user list)", cmd, ErrNoUser, name)
		}
		password, err := c.newPassword(name, passwordStdin)
		if err != nil {
			return wrap(err)
		}
		if err := s.SetPassword(name, password); err != nil {
			return wrap(err)
		}
		fmt.Fprintf(c.stdout, "changed the password of %s; its sessions have ended\n", name)
	case "set":
		if len(given) == 0 {
			return fmt.Errorf("%s: nothing to change: give -role, -windows, -display or -disabled", cmd)
		}
		err := s.UpdateUser(name, func(u *User) {
			if given["role"] {
				u.Role = Role(role)
			}
			if given["windows"] {
				u.Windows = ws
			}
			if given["display"] {
				u.DisplayName = display
			}
			if given["disabled"] {
				u.Disabled = disabled
			}
		})
		if err != nil {
			return wrap(err)
		}
		u, _ := s.User(name)
		state := "enabled"
		if u.Disabled {
			state = "disabled; its sessions have ended"
		}
		fmt.Fprintf(c.stdout, "changed %s: %s (%s), %s, %s\n", u.Name, u.Role, u.DisplayName, windowsText(u.Windows), state)
	}
	return nil
}

func (c *cli) listUsers(s *Store) error {
	users := s.Users()
	if len(users) == 0 {
		fmt.Fprintf(c.stdout, "no accounts in %s yet: add one with queued user add NAME -role admin\n", c.path)
		return nil
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tWINDOWS\tDISPLAY NAME\tSTATE\tPASSWORD SET")
	for _, u := range users {
		state := "enabled"
		if u.Disabled {
			state = "disabled"
		}
		ws := "all"
		if len(u.Windows) > 0 {
			ws = joinInts(u.Windows)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", u.Name, u.Role, ws, u.DisplayName, state,
			u.PasswordChanged.Local().Format("2006-01-02 15:04"))
	}
	return tw.Flush()
}

const tokenHelp = `usage: queued token -name NAME -scope tickets,windows
       queued token -list
       queued token -remove NAME

Makes an API token for a program, lists tokens, or removes one. A new
token is printed once, on its own line; only its SHA-256 is kept, so
store it in the program's configuration now. The program sends it as
Authorization: Bearer <token>.
  -scope   some of tickets, windows, bookings, hall, stats, terminals,
           admin (all of them)
`

func (c *cli) token(args []string) error {
	const cmd = "queued token"
	fs := newFlags(cmd)
	name := fs.String("name", "", "")
	scope := fs.String("scope", "", "")
	list := fs.Bool("list", false, "")
	remove := fs.String("remove", "", "")
	rest, err := parseFlags(fs, args, tokenHelp)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return fmt.Errorf("%s: unexpected %q (see %s -h)", cmd, rest[0], cmd)
	}
	modes := 0
	for _, set := range []bool{*name != "" || *scope != "", *list, *remove != ""} {
		if set {
			modes++
		}
	}
	if modes != 1 {
		return fmt.Errorf("%s: give one of -name NAME -scope SCOPES, -list or -remove NAME (see %s -h)", cmd, cmd)
	}
	s, err := OpenStore(c.path, c.opts)
	if err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	switch {
	case *list:
		tokens := s.Tokens()
		if len(tokens) == 0 {
			fmt.Fprintln(c.stdout, "no API tokens yet: make one with queued token -name NAME -scope SCOPES")
			return nil
		}
		tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tSCOPES\tCREATED")
		for _, t := range tokens {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", t.Name, strings.Join(t.Scopes, ","), t.Created.Local().Format("2006-01-02 15:04"))
		}
		return tw.Flush()
	case *remove != "":
		if err := s.RemoveToken(*remove); err != nil {
			return fmt.Errorf("%s: %w", cmd, err)
		}
		fmt.Fprintf(c.stdout, "removed token %s; programs using it are refused from now on\n", *remove)
		return nil
	}
	if *name == "" || *scope == "" {
		return fmt.Errorf("%s: give both -name NAME and -scope SCOPES", cmd)
	}
	scopes, err := normalScopes(splitList(*scope))
	if err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	secret, err := s.AddToken(*name, scopes)
	if err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	// The explanation goes to stderr so that TOKEN=$(queued token …)
	// captures the token alone.
	fmt.Fprintf(c.stderr, "made token %s with scopes %s; it is shown only now (queued keeps its SHA-256):\n",
		*name, strings.Join(scopes, ","))
	fmt.Fprintln(c.stdout, secret)
	return nil
}

// newFlags makes a flag set that prints nothing itself: -h shows only
// the subcommand's usage, and an error is one line.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseFlags parses flags given before or after the positional
// arguments (`user add olena -role operator` as well as `user add -role
// operator olena`) and returns the positional ones.
func parseFlags(fs *flag.FlagSet, args []string, usage string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, helpShown(usage)
			}
			return nil, fmt.Errorf("%s: %v (see %s -h)", fs.Name(), err, fs.Name())
		}
		args = fs.Args()
		if len(args) == 0 {
			return rest, nil
		}
		rest = append(rest, args[0])
		args = args[1:]
	}
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// parseWindows reads -windows: "1,2", or "" / "all" for every window.
func parseWindows(s string) ([]int, error) {
	if s == "" || s == "all" {
		return nil, nil
	}
	var ws []int
	for _, f := range splitList(s) {
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("%w %q: -windows takes numbers like 1,2 or all", ErrBadWindow, f)
		}
		ws = append(ws, n)
	}
	return normalWindows(ws)
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

func windowsText(ws []int) string {
	if len(ws) == 0 {
		return "every window"
	}
	if len(ws) == 1 {
		return "window " + strconv.Itoa(ws[0])
	}
	return "windows " + strings.Join(strings.Split(joinInts(ws), ","), ", ")
}

// newPassword reads the account's new password: twice without echo from
// a terminal, else one line from stdin (for scripts and -password-stdin).
func (c *cli) newPassword(name string, fromStdin bool) (string, error) {
	f, isFile := c.stdin.(*os.File)
	if !fromStdin && isFile && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(c.stderr, "new password for %s: ", name)
		first, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(c.stderr)
		if err != nil {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		if err := checkNewPassword(string(first)); err != nil {
			return "", err
		}
		fmt.Fprintf(c.stderr, "the same password again: ")
		second, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(c.stderr)
		if err != nil {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		if !bytes.Equal(first, second) {
			return "", fmt.Errorf("%w: the two passwords differ; nothing was changed", ErrBadPassword)
		}
		return string(first), nil
	}
	if c.lines == nil {
		c.lines = bufio.NewReaderSize(c.stdin, 4096)
	}
	line, err := c.lines.ReadString('\n')
	if err != nil && (err != io.EOF || line == "") {
		return "", fmt.Errorf("%w: expected one line on stdin", ErrBadPassword)
	}
	line = strings.TrimRight(line, "\r\n")
	if !utf8.ValidString(line) {
		return "", fmt.Errorf("%w: stdin is not UTF-8 text", ErrBadPassword)
	}
	return line, checkNewPassword(line)
}

// ConfigFlag takes "-config FILE" (or -config=FILE, --config) from
// anywhere in a "user …" or "token …" command line, as the daemons'
// mains accept it: the configuration's path (def when none) and the
// other arguments, for Command.
func ConfigFlag(args []string, def string) (config string, rest []string) {
	config, rest = def, make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case (a == "-config" || a == "--config") && i+1 < len(args):
			config = args[i+1]
			i++
		case strings.HasPrefix(a, "-config=") || strings.HasPrefix(a, "--config="):
			config = a[strings.Index(a, "=")+1:]
		default:
			rest = append(rest, a)
		}
	}
	return config, rest
}
