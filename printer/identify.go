package printer

import "strings"

// MatchProfiles lists the profiles whose Match names occur in what a
// printer calls itself (its maker and model name, GS I 66 and 67), in
// the order of ProfileIDs; none for a name no profile knows.
func MatchProfiles(name string) []*Profile {
	name = strings.ToUpper(name)
	var out []*Profile
	for _, id := range ProfileIDs() {
		p := profiles[id]
		for _, m := range p.Match {
			if m != "" && strings.Contains(name, strings.ToUpper(m)) {
				out = append(out, p)
				break
			}
		}
	}
	return out
}
