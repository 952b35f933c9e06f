package state

// Change is one set of changes to a state's entries and folders: the unit a
// state's writer applies during apply, and the unit a backend that journals
// (store.Appender) makes durable without rewriting the whole state. A Change
// names what it touches, so a backend can store it in time that does not
// grow with the state.
type Change struct {
	// Entries holds the new entry of each address it names; a nil entry
	// removes the address.
	Entries map[string]*Entry `json:"entries,omitempty"`
	// Folders holds the new id of each folder path it names; an empty id
	// removes the path.
	Folders map[string]string `json:"folders,omitempty"`
}

// PutEntry returns the change that records e (a copy) at address.
func PutEntry(address string, e *Entry) Change {
	return Change{Entries: map[string]*Entry{address: e.Clone()}}
}

// RemoveEntry returns the change that forgets address.
func RemoveEntry(address string) Change {
	return Change{Entries: map[string]*Entry{address: nil}}
}

// PutFolders returns the change that records each folder path's id.
func PutFolders(ids map[string]string) Change {
	c := Change{Folders: make(map[string]string, len(ids))}
	for p, id := range ids {
		c.Folders[p] = id
	}
	return c
}

// Empty reports whether c changes nothing.
func (c Change) Empty() bool { return len(c.Entries) == 0 && len(c.Folders) == 0 }

// Merge returns one Change that does what applying changes in order does: for each address
// and folder path, the last change that names it wins. It shares the entries of changes.
func Merge(changes ...Change) Change {
	if len(changes) == 1 {
		return changes[0]
	}
	var m Change
	for _, c := range changes {
		for a, e := range c.Entries {
			if m.Entries == nil {
				m.Entries = make(map[string]*Entry, len(c.Entries))
			}
			m.Entries[a] = e
		}
		for p, id := range c.Folders {
			if m.Folders == nil {
				m.Folders = make(map[string]string, len(c.Folders))
			}
			m.Folders[p] = id
		}
	}
	return m
}

// Apply makes c's changes to s. Entries are copied, so c may be kept.
func (s *State) Apply(c Change) {
	if s.Entries == nil {
		s.Entries = map[string]*Entry{}
	}
	if s.Folders == nil {
		s.Folders = map[string]string{}
	}
	for addr, e := range c.Entries {
		if e == nil {
			delete(s.Entries, addr)
			continue
		}
		s.Entries[addr] = e.Clone()
	}
	for p, id := range c.Folders {
		if id == "" {
			delete(s.Folders, p)
			continue
		}
		s.Folders[p] = id
	}
}
