package apply

// SetPerFileRecords sets perFileRecords (see there) and returns the function that puts it
// back.
func SetPerFileRecords(on bool) (restore func()) {
	was := perFileRecords
	perFileRecords = on
	return func() { perFileRecords = was }
}
