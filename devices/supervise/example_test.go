package supervise_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/devices/supervise"
)

// line stands for an opened device: a serial port, a socket.
type line struct{}

func (line) Close() error { return nil }

// A scanner that is not plugged in at first: the loop says why it cannot
// open it and waits on its clock; once it opens, the session says it
// works; when ctx ends the loop stops.
func Example() {
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	plugged := false
	var loop *supervise.Loop[line]
	loop = supervise.New(supervise.Config[line]{
		Name: "scanner",
		Open: func(context.Context) (line, error) {
			if !plugged {
				return line{}, errors.New("open /dev/ttyACM0: no such file or directory")
			}
			return line{}, nil
		},
		Use: func(ctx context.Context, l line) error {
			loop.Set(supervise.OK, "/dev/ttyACM0 at 9600 baud")
			<-ctx.Done()
			return nil
		},
		Describe: func(ev supervise.Event, err error, retry time.Duration) string {
			if err != nil {
				return ev.String() + ": " + err.Error()
			}
			return ev.String()
		},
		Clock: clock,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { loop.Run(ctx); close(done) }()

	_ = clock.BlockUntilContext(ctx, 1) // the loop waits to try again
	st := loop.Status()
	fmt.Println(st.State, st.Detail, st.Failures)

	plugged = true
	clock.Advance(st.RetryAt.Sub(clock.Now()))
	for loop.Status().State != supervise.OK {
		<-loop.Changes()
	}
	st = loop.Status()
	fmt.Println(st.State, st.Detail, st.Since.Equal(clock.Now()))

	cancel()
	<-done
	fmt.Println(loop.Status().State, loop.Status().Detail)
	// Output:
	// fault cannot open: open /dev/ttyACM0: no such file or directory 1
	// ok /dev/ttyACM0 at 9600 baud true
	// fault stopped
}
