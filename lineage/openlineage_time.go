package lineage

import "time"

// parseTime reads the timestamps producers actually send: RFC 3339
// ("2024-01-02T03:04:05Z") and its common variants, a space for the T, a
// fraction of any length (digits past nanoseconds are dropped), offsets
// "+02:00", "+0200" and "+02", no zone at all (UTC, which is what Python's
// naive datetime.isoformat() means in practice), no seconds (Java's
// LocalDateTime.toString at a whole minute) and a trailing "[Europe/Paris]"
// (Java's ZonedDateTime.toString). The result is in UTC.
func parseTime(s string) (time.Time, bool) {
	// YYYY-MM-DD
	if len(s) < len("2006-01-02T15:04") || s[4] != '-' || s[7] != '-' {
		return time.Time{}, false
	}
	year, ok1 := num(s[0:4])
	month, ok2 := num(s[5:7])
	day, ok3 := num(s[8:10])
	if !ok1 || !ok2 || !ok3 || month < 1 || month > 12 || day < 1 || day > daysIn(time.Month(month), year) {
		return time.Time{}, false
	}
	if c := s[10]; c != 'T' && c != 't' && c != ' ' {
		return time.Time{}, false
	}
	// hh:mm[:ss]
	if s[13] != ':' {
		return time.Time{}, false
	}
	hour, ok1 := num(s[11:13])
	minute, ok2 := num(s[14:16])
	if !ok1 || !ok2 || hour > 23 || minute > 59 {
		return time.Time{}, false
	}
	rest := s[16:]
	sec, nsec := 0, 0
	if len(rest) > 0 && rest[0] == ':' {
		if len(rest) < 3 {
			return time.Time{}, false
		}
		var ok bool
		if sec, ok = num(rest[1:3]); !ok || sec > 59 {
			return time.Time{}, false
		}
		rest = rest[3:]
		if len(rest) > 0 && (rest[0] == '.' || rest[0] == ',') {
			i := 1
			scale := 100_000_000
			for ; i < len(rest) && rest[i] >= '0' && rest[i] <= '9'; i++ {
				nsec += int(rest[i]-'0') * scale
				scale /= 10
			}
			if i == 1 {
				return time.Time{}, false
			}
			rest = rest[i:]
		}
	}
	// zone
	offset := 0
	switch {
	case rest == "":
	case rest[0] == 'Z' || rest[0] == 'z':
		rest = rest[1:]
	case rest[0] == '+' || rest[0] == '-':
		var oh, om int
		var ok bool
		z := rest[1:]
		if len(z) < 2 {
			return time.Time{}, false
		}
		if oh, ok = num(z[:2]); !ok || oh > 23 {
			return time.Time{}, false
		}
		z = z[2:]
		if len(z) > 0 && z[0] == ':' {
			z = z[1:]
			if len(z) < 2 {
				return time.Time{}, false
			}
		}
		if len(z) >= 2 && z[0] >= '0' && z[0] <= '9' {
			if om, ok = num(z[:2]); !ok || om > 59 {
				return time.Time{}, false
			}
			z = z[2:]
		}
		offset = oh*3600 + om*60
		if rest[0] == '-' {
			offset = -offset
		}
		rest = z
	default:
		return time.Time{}, false
	}
	if rest != "" && (rest[0] != '[' || rest[len(rest)-1] != ']') {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	return t.Add(-time.Duration(offset) * time.Second), true
}

// num reads a string of decimal digits.
func num(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(m time.Month, year int) int {
	if m == time.February {
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	}
	return 30 + int((m+m/8)%2)
}
