package apptest

import (
	"context"
	"time"

	"facility/internal/audit"
	"facility/internal/authz"
	"facility/internal/calls"
	"facility/internal/demo"
)

// CallInput is demo.GreenJobsCall: a small, complete call design.
func CallInput(opens, closes time.Duration) calls.Input { return demo.GreenJobsCall(opens, closes) }

// PublishedCall designs, approves (G0) and publishes a call with in, as a
// manager of its facility, and returns it with that manager's id.
func (e *Env) PublishedCall(in calls.Input) (*calls.Call, string) {
	e.t.Helper()
	ctx := context.Background()
	mgr, _ := e.User(time.Now().Format("150405.000000")+"-mgr@example.org", authz.RoleManager, authz.FacilityDomain(in.FacilityCode))
	a := audit.Actor{UserID: mgr.ID, IP: "127.0.0.1", RequestID: "test"}
	c, err := e.Calls.Create(ctx, a, in)
	if err != nil {
		e.t.Fatalf("create call: %v", err)
	}
	if err := e.Calls.SubmitForApproval(ctx, a, c.ID); err != nil {
		e.t.Fatalf("submit call for approval: %v", err)
	}
	if err := e.Calls.DecideG0(ctx, a, c.ID, "approve", "ready"); err != nil {
		e.t.Fatalf("approve call: %v", err)
	}
	if err := e.Calls.Publish(ctx, a, c.ID); err != nil {
		e.t.Fatalf("publish call: %v", err)
	}
	c, err = e.Calls.Get(ctx, c.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return c, mgr.ID
}
