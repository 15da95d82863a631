package store

import (
	"context"
	"time"

	"github.com/signalhq/signal/internal/signal"
)

// IntegrationStore keeps installed integrations. Config is encrypted at rest.
type IntegrationStore interface {
	CreateIntegration(ctx context.Context, p CreateIntegrationParams) error
	GetIntegration(ctx context.Context, p GetIntegrationParams) (*signal.Integration, error)
	ListIntegrations(ctx context.Context, p ListParams) ([]*signal.Integration, error)
	// UpdateIntegration writes every field of p.Integration (by ID) but its
	// creation time.
	UpdateIntegration(ctx context.Context, p UpdateIntegrationParams) error
	// DeleteIntegration deletes an integration; its pending deliveries end
	// filtered, integration_deleted, stamped Now.
	DeleteIntegration(ctx context.Context, p DeleteIntegrationParams) error
	// PauseIntegration sets an active integration paused with Reason, only
	// if it is unchanged since IfUpdatedAt (the version the refused request
	// was sent with): a key replaced meanwhile is never overwritten. It
	// reports whether it paused.
	PauseIntegration(ctx context.Context, p PauseIntegrationParams) (bool, error)
}

type CreateIntegrationParams struct {
	Integration *signal.Integration
}

type GetIntegrationParams struct {
	ID string
}

type UpdateIntegrationParams struct {
	Integration *signal.Integration
}

type DeleteIntegrationParams struct {
	ID  string
	Now time.Time
}

type PauseIntegrationParams struct {
	ID          string
	Reason      signal.Reason
	IfUpdatedAt time.Time
	Now         time.Time
}

// BlueprintStore keeps every blueprint an integration was given, as
// numbered versions, and the property types its vendor events were first
// built with.
type BlueprintStore interface {
	// SaveBlueprint sets the integration's blueprint and keeps it as its
	// next version (1 for the first), atomically: two saves at once get
	// two versions. Unknown integration: ENOTFOUND.
	SaveBlueprint(ctx context.Context, p SaveBlueprintParams) (*signal.BlueprintVersion, error)
	// ListBlueprintVersions lists an integration's versions newest first,
	// Limit at a time; it returns the cursor of the next page ("" at the
	// end).
	ListBlueprintVersions(ctx context.Context, p ListBlueprintVersionsParams) ([]*signal.BlueprintVersion, string, error)
	// GetBlueprintVersion returns one version. Unknown: ENOTFOUND.
	GetBlueprintVersion(ctx context.Context, p GetBlueprintVersionParams) (*signal.BlueprintVersion, error)
	// RememberPropertyTypes stores each given property's type unless one
	// is already stored for its (integration, vendor event, property), and
	// returns the stored types of the given properties: the first type
	// written wins, on every node.
	RememberPropertyTypes(ctx context.Context, p RememberPropertyTypesParams) (map[PropertyKey]string, error)
	// PropertyTypes returns every stored property type of an integration.
	PropertyTypes(ctx context.Context, p PropertyTypesParams) (map[PropertyKey]string, error)
}

type PropertyTypesParams struct {
	IntegrationID string
}

type SaveBlueprintParams struct {
	IntegrationID string
	Blueprint     signal.Blueprint
	Author        signal.AuditActor
	Summary       string
	Now           time.Time
}

type ListBlueprintVersionsParams struct {
	IntegrationID string
	Cursor        string
	Limit         int
}

type GetBlueprintVersionParams struct {
	IntegrationID string
	Version       int
}

// PropertyKey names one property of one integration's vendor event.
type PropertyKey struct {
	IntegrationID   string
	VendorEventName string
	Property        string
}

type RememberPropertyTypesParams struct {
	Types map[PropertyKey]string
	Now   time.Time
}
