// Package plan computes what apply must do: the diff between the desired files of a manifest,
// the state of what fiosync delivered before, and (after a refresh) what is really in
// Frame.io.
//
// Planning happens in three steps. Refresh reads the remote side: it resolves the target and
// the destination folders and lists the files that the state and the manifest touch. Identify
// reads the local side: it stats every desired file and hashes only those whose size or mtime
// changed since the state recorded them. Build is pure: from those facts it derives a Plan, a
// sorted list of Changes with a reason for each, which renders as text, JSON or markdown and
// can be saved to a plan file that apply refuses once it has gone stale.
package plan
