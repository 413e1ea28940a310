package queue_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/queue"
)

func Example() {
	office, _ := configs.LoadOffice("../configs/office.yaml")
	dir, _ := os.MkdirTemp("", "queue")
	defer os.RemoveAll(dir)
	q, err := queue.Open(filepath.Join(dir, "queued.db"), office, queue.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer q.Close()
	t, _, _ := q.Issue("pension-age", "kiosk-01")
	called, _, _ := q.Next(9) // window 9 serves pensions
	fmt.Println(t.Number, called.Window, called.State)
	// Output: П001 9 called
}
