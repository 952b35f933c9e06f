package apply

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/fiosync/fiosync/plan"
)

// OrderBy is the order of uploads that share a priority (apply --order-by KEY[,asc|desc]):
// Key is "size", "name" (the address) or "mtime" (local files; remote ones have none and
// sort as oldest); "" keeps the plan's order. Ties keep the plan's order.
type OrderBy struct {
	Key  string
	Desc bool
}

// ParseOrderBy reads an --order-by value: "size", "name" or "mtime", optionally followed by
// ",asc" (the default) or ",desc".
func ParseOrderBy(s string) (OrderBy, error) {
	key, dir, _ := strings.Cut(s, ",")
	o := OrderBy{Key: key}
	switch dir {
	case "", "asc":
	case "desc":
		o.Desc = true
	default:
		return OrderBy{}, fmt.Errorf("order %q: the direction is asc or desc, not %q", s, dir)
	}
	if err := o.check(); err != nil {
		return OrderBy{}, err
	}
	return o, nil
}

func (o OrderBy) check() error {
	switch o.Key {
	case "", "size", "name", "mtime":
		return nil
	}
	return fmt.Errorf("order %q: sort by size, name or mtime", o.Key)
}

func (o OrderBy) compare(a, b plan.Change) int {
	var c int
	switch o.Key {
	case "size":
		c = cmp.Compare(a.Size, b.Size)
	case "name":
		c = strings.Compare(a.Address, b.Address)
	case "mtime":
		c = a.Source.ModTime.Compare(b.Source.ModTime)
	}
	if o.Desc {
		return -c
	}
	return c
}

// order sorts the plan indexes of the uploads into the order they start: higher manifest
// priority first, then Options.OrderBy, then the plan's order.
func (r *run) order(uploads []int) {
	changes := r.plan.Changes
	slices.SortStableFunc(uploads, func(i, j int) int {
		if c := cmp.Compare(changes[j].Priority, changes[i].Priority); c != 0 {
			return c
		}
		return r.opts.OrderBy.compare(changes[i], changes[j])
	})
}
