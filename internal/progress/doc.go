// Package progress models how far a delivery has got and how long the rest will take: files
// and bytes done of the planned totals, smoothed file and byte rates, the elapsed time, and an
// ETA that knows a delivery has two bottlenecks. Bytes bound a delivery of camera files;
// Frame.io's create rate (about 5 files a second) bounds a delivery of 2,000 small frames,
// whose bytes are in long before its files are. The ETA is the larger of the two:
//
//	max(bytes remaining / byte rate, creates remaining / create rate)
//
// A Tracker is a plain value fed with times, so it is tested on a fake clock; it draws
// nothing. cmd/fiosync feeds it from apply's events and renders its Snapshot.
package progress
