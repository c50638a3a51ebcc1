package server

import (
	"context"
	"errors"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/store"
)

// The automatic brake: a release published with --brake-after N
// --brake-rate P halts itself when more than P percent of the first N
// installations that tried it failed or were rolled back (their field
// reports say so). It is checked when reports about the release arrive,
// on whichever replica receives them; the halt is a release control
// change like staff's, with the actor "brake", in the audit log and the
// release's status.

// errNotLive: the release was halted or withdrawn meanwhile.
var errNotLive = errors.New("the release is no longer live")

// applyBrakes checks the brake of each release the reports tried.
func (s *Server) applyBrakes(ctx context.Context, reports []api.FieldReport) {
	seen := map[[2]string]bool{}
	for _, rep := range reports {
		key := [2]string{rep.Product, api.CanonicalVersion(rep.ToVersion)}
		if rep.Outcome == api.OutcomeChecked || seen[key] {
			continue
		}
		seen[key] = true
		if err := s.brake(ctx, key[0], key[1]); err != nil {
			s.logger().Warn("the automatic brake could not be checked", "product", key[0], "version", key[1], "err", err)
		}
	}
}

// brake halts product's version when its brake says so.
func (s *Server) brake(ctx context.Context, product, version string) error {
	cs, err := s.Store.ReleaseControls(ctx, product)
	if err != nil {
		return err
	}
	c := store.ControlOf(cs, product, version)
	if c.BrakeAfter == 0 || c.State != store.ControlLive {
		return nil
	}
	counts, err := s.Store.FirstAttempts(ctx, product, version, c.BrakeAfter)
	if err != nil {
		return err
	}
	pull, why := c.Brakes(counts)
	if !pull {
		return nil
	}
	_, err = s.Store.ChangeReleaseControl(ctx, product, version, "release.brake",
		store.Actor{Name: store.ActorBrake, Reason: why, At: s.Now.UTC()},
		func(c *store.ReleaseControl) error {
			if c.State != store.ControlLive {
				return errNotLive // halted by staff or another replica's brake meanwhile
			}
			c.State = store.ControlHalted
			return nil
		})
	if errors.Is(err, errNotLive) {
		return nil
	}
	if err != nil {
		return err
	}
	s.Changes.Changed()
	s.logger().Warn("release halted by the automatic brake", "product", product, "version", version, "reason", why)
	return nil
}
