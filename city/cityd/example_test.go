package cityd_test

import (
	"fmt"

	"github.com/cherga/kiosk/city/cityd"
	"github.com/cherga/kiosk/configs"
)

// The database's connection string as cityd uses it: the configured DSN
// with the TLS root of ca_file (and the password of password_file, read
// from its 0600 file) added.
func ExampleDSN() {
	dsn, err := cityd.DSN(configs.CityDB{DSN: "postgres://cityd@db1.city.local,db2.city.local/city?target_session_attrs=read-write"})
	fmt.Println(dsn, err)
	// Output:
	// postgres://cityd@db1.city.local,db2.city.local/city?target_session_attrs=read-write <nil>
}
