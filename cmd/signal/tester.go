package main

import (
	"context"
	"strings"
	"time"

	"github.com/signalhq/signal/internal/admin"
	"github.com/signalhq/signal/internal/contact"
	"github.com/signalhq/signal/internal/delivery"
	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/signal"
)

// tester adapts the delivery engine to the Management API's test route.
// The test event is the vendor's own (Vendor.TestEvent).
type tester struct {
	engine  *delivery.Engine
	vendors *integration.Registry
}

func (t tester) SendTest(ctx context.Context, in *signal.Integration, email string) (*admin.TestResult, error) {
	addr, err := contact.ParseEmail(email)
	if err != nil {
		return nil, signal.FieldErrorf(signal.EINVALID, "email", "email is not a valid address")
	}
	vendor, ok := t.vendors.Vendor(in.CatalogKey)
	if !ok {
		return nil, signal.Errorf(signal.ECONFLICT, "this integration's vendor is not available")
	}
	ev := vendor.TestEvent(in, integration.Contact{Email: addr}, time.Now())
	if in.DryRun() {
		payload, err := t.engine.BuildTest(in, ev)
		if err != nil {
			return nil, err
		}
		return &admin.TestResult{Status: string(signal.ReasonDryRun), Payload: payload}, nil
	}
	o, payload, err := t.engine.SendTest(ctx, in, ev)
	if err != nil {
		return nil, err
	}
	status := string(signal.StatusFailed)
	switch o.Kind {
	case integration.Delivered:
		status = string(signal.StatusDelivered)
	case integration.RateLimited:
		status = "rate_limited"
	case integration.Pause:
		status = strings.TrimSpace(string(o.Reason))
	}
	return &admin.TestResult{Status: status, VendorStatus: o.Status, VendorResponse: o.Body, Payload: payload}, nil
}
