package kiosk

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/cherga/kiosk/display/announce"
	"github.com/cherga/kiosk/httpapi"
	"github.com/cherga/kiosk/link/proto"
)

// Speaker says a text in a language; the kiosk's voice guidance speaks
// each screen and each focused choice through it. kioskd gives it the
// hall's voice: phrase packs for ticket numbers, espeak-ng for the rest,
// all on this machine.
type Speaker interface {
	Say(lang, text string) (*announce.Clip, error)
}

// maxSpeech bounds a text the page may ask to hear (a screen's title and
// its choice, a service name).
const maxSpeech = 600

// speechCache keeps the last texts spoken as WAV: the same screens are
// heard again and again, and espeak-ng takes a while to start.
type speechCache struct {
	sp Speaker

	say   sync.Mutex // one synthesis at a time on a two-core terminal
	mu    sync.Mutex
	clips map[string][]byte
	order []string
}

const speechCached = 128

func newSpeechCache(sp Speaker) *speechCache {
	return &speechCache{sp: sp, clips: map[string][]byte{}}
}

func (c *speechCache) wav(lang, text string) ([]byte, error) {
	key := lang + "\x00" + text
	c.mu.Lock()
	b, ok := c.clips[key]
	c.mu.Unlock()
	if ok {
		return b, nil
	}
	c.say.Lock()
	clip, err := c.sp.Say(lang, text)
	c.say.Unlock()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := clip.WriteWAV(&buf); err != nil {
		return nil, err
	}
	b = buf.Bytes()
	c.mu.Lock()
	if _, ok := c.clips[key]; !ok {
		c.clips[key] = b
		c.order = append(c.order, key)
		if len(c.order) > speechCached {
			delete(c.clips, c.order[0])
			c.order = c.order[1:]
		}
	}
	c.mu.Unlock()
	return b, nil
}

// handleSpeech is GET /api/v1/speech?lang=uk&text=…: the text spoken, as
// WAV, for the page's voice guidance.
func (k *Kiosk) handleSpeech(w http.ResponseWriter, r *http.Request) {
	if k.speech == nil {
		httpapi.WriteError(w, http.StatusNotFound, "no_speech", "voice guidance is off: this kiosk has no voice (install espeak-ng or configure hall.voice)")
		return
	}
	// Line breaks and runs of spaces are one space when spoken.
	lang, text := r.URL.Query().Get("lang"), strings.Join(strings.Fields(r.URL.Query().Get("text")), " ")
	if lang != "uk" && lang != "en" {
		httpapi.WriteError(w, http.StatusBadRequest, proto.CodeBadRequest, fmt.Sprintf("lang: got %q, expected uk or en", lang))
		return
	}
	if text == "" || len(text) > maxSpeech || !utf8.ValidString(text) || strings.ContainsFunc(text, unicode.IsControl) {
		// A NUL cannot be passed to espeak-ng at all, and no control
		// character is anything to say.
		httpapi.WriteError(w, http.StatusBadRequest, proto.CodeBadRequest,
			fmt.Sprintf("text: expected 1 to %d bytes of UTF-8 without control characters", maxSpeech))
		return
	}
	b, err := k.speech.wav(lang, text)
	if err != nil {
		// The error names espeak-ng's path and its stderr: the log's, not
		// the page's.
		k.log.Error("voice guidance not spoken", "lang", lang, "err", err)
		httpapi.Fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "audio/wav")
	_, _ = w.Write(b)
}
