package emulator

func (e *Emulator) loadSnapshot() (bool, error) { return false, nil }
func (e *Emulator) saveSnapshot() error         { return nil }
