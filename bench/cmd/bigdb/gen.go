package main

import (
	"time"
)

// gen is one generation: its seed, sizes, the entitlements' plans and the
// code secret the codes are hashed with.
type gen struct {
	seed   uint64
	sizes  Sizes
	plans  []Plan
	secret []byte
	now    time.Time // the end of the generated history, fixed so that a seed gives one database
	logf   func(format string, args ...any)
}

func newGen(seed uint64, s Sizes, secret []byte, logf func(string, ...any)) *gen {
	return &gen{seed: seed, sizes: s, plans: plans(seed, s.Customers+s.HWKeys, s.Ledger), secret: secret,
		now: epoch.Add(span), logf: logf}
}

func (g *gen) customer(i int) Customer { return customerAt(g.seed, i) }

// entitlement is entitlement i (0-based; its ID is i+1): the customers'
// codes first, then the hardware keys.
type entitlement struct {
	customer Customer
	serial   string // "" for a code
}

func (g *gen) entitlement(i int) entitlement {
	if i < g.sizes.Customers {
		return entitlement{customer: g.customer(i)}
	}
	k := i - g.sizes.Customers
	return entitlement{customer: g.customer(keyOwner(k, g.sizes.Customers)), serial: serialAt(k)}
}
