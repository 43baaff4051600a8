// Package supervise holds the policy arithmetic of SPEC section 7: which end
// of an attempt leads to another one, and how long to wait before it. It owns
// no process and no timer; the runner asks it and acts. Randomness is injected
// so tests can check every jitter exactly.
package supervise
