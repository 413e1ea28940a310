package link

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/cherga/kiosk/link/proto"
	"github.com/cherga/kiosk/queue/queuetest"
)

type garbageServer struct{ url string }

// newGarbageServer answers hello with a proper welcome (the demo office's
// catalogue) and then with nothing but nonsense: bad JSON, unknown types,
// messages without their payload, binary frames, a reply to a request
// never made.
func newGarbageServer(t *testing.T) *garbageServer {
	cfg := queuetest.Config(t)
	cat := proto.Catalogue{}
	for _, g := range cfg.Groups {
		cat.Groups = append(cat.Groups, proto.Group{ID: g.ID, Name: proto.Text(g.Name), Prefix: g.Prefix})
	}
	for _, s := range cfg.Services {
		cat.Services = append(cat.Services, proto.Service{ID: s.ID, Group: s.Group, Name: proto.Text(s.Name)})
	}
	up := websocket.Upgrader{Subprotocols: []string{proto.Subprotocol}}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		if _, _, err := conn.ReadMessage(); err != nil {
			return
		}
		welcome, _ := proto.Encode(&proto.Message{Type: proto.TypeWelcome, Welcome: &proto.Welcome{
			Office: proto.Office{ID: "garbage", Timezone: "Europe/Kyiv"}, Catalogue: cat, ServerTime: time.Now(), Slot: 9}})
		_ = conn.WriteMessage(websocket.TextMessage, welcome)
		junk := []string{`{"type":`, `[]`, `{"type":"teleport"}`, `{"type":"call"}`, `{"type":"ack"}`,
			`{"type":"reserved","re":"r999","ticket":{"number":"X1"}}`, `{"type":"lease","leases":[{"day":"x","prefix":"А","from":5,"to":1}]}`,
			strings.Repeat("й", 1000)}
		for {
			_, b, err := conn.ReadMessage()
			if err != nil {
				return
			}
			_ = b
			for _, j := range junk {
				if conn.WriteMessage(websocket.TextMessage, []byte(j)) != nil {
					return
				}
			}
			if conn.WriteMessage(websocket.BinaryMessage, []byte{0, 1, 2}) != nil {
				return
			}
		}
	}))
	t.Cleanup(ts.Close)
	return &garbageServer{url: "ws" + strings.TrimPrefix(ts.URL, "http")}
}
