package ship_test

import (
	"fmt"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/queue/ship"
)

// The DSN queued connects with carries the CA file (and the password
// from city.password_file, never shown) as the driver's settings.
func ExampleDSN() {
	dsn, err := ship.DSN(configs.City{DSN: "postgres://cherga@db1.city.local,db2.city.local/city?target_session_attrs=read-write&sslmode=verify-full"})
	fmt.Println(dsn, err)
	// Output: postgres://cherga@db1.city.local,db2.city.local/city?target_session_attrs=read-write&sslmode=verify-full <nil>
}
