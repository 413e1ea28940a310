package city_test

import (
	"context"
	"log"
	"time"

	"github.com/cherga/kiosk/city"
	"github.com/cherga/kiosk/queue/record"
)

// An office's shipper: register, resume after what the city has, send a
// batch. (cityd opens with Migrate: true; a shipper never migrates.)
func Example() {
	ctx := context.Background()
	db, err := city.Open(ctx, "postgres://cherga@db1.city.local,db2.city.local/city?target_session_attrs=read-write", city.Options{})
	if err != nil {
		log.Fatal(err) // errors.Is(err, city.ErrSchema): start cityd first
	}
	defer db.Close()
	office := city.Office{ID: "kyiv-1", Name: map[string]string{"uk": "Київ", "en": "Kyiv"}, Timezone: "Europe/Kyiv"}
	if err := db.Register(ctx, office, "6f1c…"); err != nil {
		log.Fatal(err) // errors.Is(err, city.ErrOfficeTaken): another office has this id
	}
	shipped, err := db.Shipped(ctx, office.ID)
	if err != nil {
		log.Fatal(err)
	}
	batch := []record.Event{{Seq: shipped + 1, At: time.Now(), Day: time.Now().Format(time.DateOnly), Type: record.Issued, Ticket: "А001"}}
	n, err := db.Append(ctx, office.ID, batch)
	log.Println(n, err)
}
