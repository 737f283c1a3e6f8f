// Package authz decides whether a role may perform a kind of action in a
// domain ("system", "facility:<code>", "org:<uuid>"), using Casbin. Which
// proposal a user owns, is assigned to or conflicted with is decided by
// domain code and SQL, not here.
//
// Permission rows ship with the code; only role grants are data. Every
// instance reloads the policy when the stored policy version moves, checked
// on each request, so a revocation is effective everywhere on the next
// request; a PostgreSQL watcher makes the reload happen before that request
// in the common case.
package authz

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	psqlwatcher "github.com/IguteChung/casbin-psql-watcher"
	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	gormadapter "github.com/casbin/gorm-adapter/v3"
	"gorm.io/gorm"

	"facility/configs"
	"facility/internal/audit"
	"facility/internal/database"
)

// Enforcer answers authorisation questions and changes role grants.
type Enforcer struct {
	db       *database.DB
	casbin   *casbin.SyncedEnforcer
	loaded   atomic.Int64 // policy version currently in memory
	reloadMu sync.Mutex
	watcher  *psqlwatcher.Watcher
	log      *slog.Logger
}

// Subject is how a user appears in policies.
func Subject(userID string) string { return "user:" + userID }

// FacilityDomain and OrgDomain build domain names.
func FacilityDomain(code string) string { return KindFacility + ":" + code }

// OrgDomain is the domain of an organisation.
func OrgDomain(id string) string { return KindOrg + ":" + id }

// New loads the model and policy and replaces the stored permission rows
// with the ones this version of the code ships.
func New(ctx context.Context, db *database.DB, log *slog.Logger) (*Enforcer, error) {
	m, err := model.NewModelFromString(configs.CasbinModel)
	if err != nil {
		return nil, fmt.Errorf("casbin model: %w", err)
	}
	g := db.Gorm.WithContext(ctx)
	// The table is created by our migrations, with the schema the parity test checks.
	gormadapter.TurnOffAutoMigrate(g)
	adapter, err := gormadapter.NewAdapterByDBUseTableName(g, "", "casbin_rule")
	if err != nil {
		return nil, fmt.Errorf("casbin adapter: %w", err)
	}
	ce, err := casbin.NewSyncedEnforcer(m, adapter)
	if err != nil {
		return nil, fmt.Errorf("casbin enforcer: %w", err)
	}
	// Casbin matches grant domains as patterns when the matcher uses keyMatch
	// on domains; grants name one exact domain, so a wildcard row that got
	// into the table past ValidateGrant must match nothing.
	ce.AddNamedDomainMatchingFunc("g", "", nil)
	// Changes are written by this package inside domain transactions, never by
	// the adapter's own auto-save.
	ce.EnableAutoSave(false)
	e := &Enforcer{db: db, casbin: ce, log: log}
	if err := e.syncPermissions(ctx); err != nil {
		return nil, err
	}
	if err := e.reload(ctx); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *Enforcer) syncPermissions(ctx context.Context) error {
	return e.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var stored []gormadapter.CasbinRule
		if err := tx.Table("casbin_rule").Where("ptype = ?", "p").Find(&stored).Error; err != nil {
			return fmt.Errorf("read permission rows: %w", err)
		}
		want := map[string][]string{}
		for _, p := range permissions {
			want[strings.Join(p, ",")] = p
		}
		changed := false
		for _, r := range stored {
			key := strings.Join([]string{r.V0, r.V1, r.V2, r.V3, r.V4}, ",")
			if _, ok := want[key]; ok && r.V5 == "" {
				delete(want, key)
				continue
			}
			if err := tx.Exec("DELETE FROM casbin_rule WHERE id = ?", r.ID).Error; err != nil {
				return fmt.Errorf("remove stale permission row: %w", err)
			}
			changed = true
		}
		for _, p := range permissions {
			if _, ok := want[strings.Join(p, ",")]; !ok {
				continue
			}
			if err := tx.Exec("INSERT INTO casbin_rule (ptype, v0, v1, v2, v3, v4, v5) VALUES ('p', ?, ?, ?, ?, ?, '')",
				p[0], p[1], p[2], p[3], p[4]).Error; err != nil {
				return fmt.Errorf("write permission row: %w", err)
			}
			changed = true
		}
		if changed {
			return bumpVersion(tx)
		}
		return nil
	})
}

func bumpVersion(tx *gorm.DB) error {
	if err := tx.Exec("UPDATE policy_version SET version = version + 1 WHERE id = 1").Error; err != nil {
		return fmt.Errorf("bump policy version: %w", err)
	}
	return nil
}

func (e *Enforcer) storedVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := e.db.Gorm.WithContext(ctx).Raw("SELECT version FROM policy_version WHERE id = 1").Scan(&v).Error; err != nil {
		return 0, fmt.Errorf("read policy version: %w", err)
	}
	return v, nil
}

// reload loads the whole policy when the stored version differs from the one
// in memory.
func (e *Enforcer) reload(ctx context.Context) error {
	e.reloadMu.Lock()
	defer e.reloadMu.Unlock()
	v, err := e.storedVersion(ctx)
	if err != nil {
		return err
	}
	if v == e.loaded.Load() {
		return nil
	}
	start := time.Now()
	if err := e.casbin.LoadPolicy(); err != nil {
		return fmt.Errorf("load policy: %w", err)
	}
	e.loaded.Store(v)
	e.log.Debug("policy loaded", "version", v, "duration", time.Since(start))
	return nil
}

// Refresh makes sure the policy in memory is the stored one, for callers
// that have not read the stored version (the poll of Watch); requests use
// RefreshTo with the version read while identifying them.
func (e *Enforcer) Refresh(ctx context.Context) error {
	v, err := e.storedVersion(ctx)
	if err != nil {
		return err
	}
	if v == e.loaded.Load() {
		return nil
	}
	return e.reload(ctx)
}

// RefreshTo is Refresh for a caller that has read the stored version
// already, alongside something else (the statement that identified the
// request): it reloads only when that version differs from the one in
// memory, and costs no round trip otherwise.
func (e *Enforcer) RefreshTo(ctx context.Context, version int64) error {
	if version == e.loaded.Load() {
		return nil
	}
	return e.reload(ctx)
}

// Allowed answers whether the user may perform act on obj in dom.
func (e *Enforcer) Allowed(userID, dom, obj, act string) (bool, error) {
	if userID == "" {
		return false, nil
	}
	ok, err := e.casbin.Enforce(Subject(userID), dom, obj, act)
	if err != nil {
		return false, fmt.Errorf("enforce: %w", err)
	}
	return ok, nil
}

// Watch reloads the policy when another instance changes it: LISTEN/NOTIFY on
// PostgreSQL where available, and a poll of the policy version in any case
// because notifications are best effort. It returns when ctx ends.
func (e *Enforcer) Watch(ctx context.Context, every time.Duration) {
	if e.db.Pool != nil {
		w, err := psqlwatcher.NewWatcherWithPool(ctx, e.db.Pool, psqlwatcher.Option{Channel: "facility_policy"})
		if err != nil {
			e.log.Warn("policy watcher unavailable; polling only", "error", err)
		} else {
			e.watcher = w
			_ = w.SetUpdateCallback(func(string) {
				if err := e.reload(context.Background()); err != nil {
					e.log.Error("policy reload after notification", "error", err)
				}
			})
		}
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := e.Refresh(ctx); err != nil && ctx.Err() == nil {
				e.log.Error("policy poll", "error", err)
			}
		}
	}
}

// notify tells other instances to reload; failure only delays them until
// their next poll or request.
func (e *Enforcer) notify() {
	if e.watcher != nil {
		if err := e.watcher.Update(); err != nil {
			e.log.Warn("policy notification failed", "error", err)
		}
	}
}

// Grant is one role held by a user in a domain.
type Grant struct {
	UserID string `json:"user_id"`
	Role   string `json:"role"`
	Domain string `json:"domain"`
}

// ErrInvalidGrant is returned, wrapped with the reason, for a grant that
// names an unknown role or a domain that is not exact.
var ErrInvalidGrant = errors.New("invalid role grant")

var orgDomain = regexp.MustCompile(`^org:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
var facilityDomain = regexp.MustCompile(`^facility:[a-z_]{3,60}$`)

// ValidateGrant checks a grant's shape: a known role, in exactly one
// domain of the role's kind, that exists.
func (e *Enforcer) ValidateGrant(ctx context.Context, g Grant) error {
	kind, ok := roleKinds[g.Role]
	if !ok {
		return fmt.Errorf("%w: unknown role %q", ErrInvalidGrant, g.Role)
	}
	switch kind {
	case KindSystem:
		if g.Domain != "system" {
			return fmt.Errorf("%w: role %s is granted in the system domain only", ErrInvalidGrant, g.Role)
		}
	case KindFacility:
		if !facilityDomain.MatchString(g.Domain) {
			return fmt.Errorf("%w: role %s needs a domain facility:<code> naming one facility", ErrInvalidGrant, g.Role)
		}
		var n int64
		if err := e.db.Gorm.WithContext(ctx).Table("thematic_facilities").
			Where("code = ?", strings.TrimPrefix(g.Domain, "facility:")).Count(&n).Error; err != nil {
			return fmt.Errorf("check facility: %w", err)
		}
		if n == 0 {
			return fmt.Errorf("%w: no facility %q", ErrInvalidGrant, g.Domain)
		}
	case KindOrg:
		if !orgDomain.MatchString(g.Domain) {
			return fmt.Errorf("%w: role %s needs a domain org:<uuid> naming one organisation", ErrInvalidGrant, g.Role)
		}
	}
	if !database.ValidID(g.UserID) {
		return fmt.Errorf("%w: user id %q is not a UUID", ErrInvalidGrant, g.UserID)
	}
	return nil
}

// GrantTx writes a grant inside tx (with its audit record, written by the
// caller or by Grant). Granting a role already held changes nothing.
func GrantTx(tx *gorm.DB, g Grant) (bool, error) {
	res := tx.Exec(`INSERT INTO casbin_rule (ptype, v0, v1, v2, v3, v4, v5)
		SELECT 'g', ?, ?, ?, '', '', '' WHERE NOT EXISTS (
			SELECT 1 FROM casbin_rule WHERE ptype = 'g' AND v0 = ? AND v1 = ? AND v2 = ?)`,
		Subject(g.UserID), g.Role, g.Domain, Subject(g.UserID), g.Role, g.Domain)
	if res.Error != nil {
		return false, fmt.Errorf("write role grant: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return false, nil
	}
	return true, bumpVersion(tx)
}

// RevokeTx removes a grant inside tx.
func RevokeTx(tx *gorm.DB, g Grant) (bool, error) {
	res := tx.Exec("DELETE FROM casbin_rule WHERE ptype = 'g' AND v0 = ? AND v1 = ? AND v2 = ?",
		Subject(g.UserID), g.Role, g.Domain)
	if res.Error != nil {
		return false, fmt.Errorf("remove role grant: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return false, nil
	}
	return true, bumpVersion(tx)
}

// Grant gives a role, audited, and makes it effective on this instance at
// once and on the others on their next request.
func (e *Enforcer) Grant(ctx context.Context, actor audit.Actor, g Grant) error {
	if err := e.ValidateGrant(ctx, g); err != nil {
		return err
	}
	return e.change(ctx, actor, g, "role.grant", GrantTx)
}

// Revoke takes a role away, with the same guarantees as Grant.
func (e *Enforcer) Revoke(ctx context.Context, actor audit.Actor, g Grant) error {
	return e.change(ctx, actor, g, "role.revoke", RevokeTx)
}

func (e *Enforcer) change(ctx context.Context, actor audit.Actor, g Grant, action string, write func(*gorm.DB, Grant) (bool, error)) error {
	err := e.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Table("users").Where("id = ?", g.UserID).Count(&n).Error; err != nil {
			return fmt.Errorf("check user: %w", err)
		}
		if n == 0 {
			return fmt.Errorf("%w: no such user", ErrInvalidGrant)
		}
		changed, err := write(tx, g)
		if err != nil || !changed {
			return err
		}
		return audit.Append(tx, actor, audit.Entry{
			Action: action, ObjectType: "user", ObjectID: g.UserID, Domain: g.Domain,
			Details: map[string]any{"role": g.Role},
		})
	})
	if err != nil {
		return err
	}
	e.Changed(ctx)
	return nil
}

// Changed reloads after a policy write committed by any package, and tells
// the other instances.
func (e *Enforcer) Changed(ctx context.Context) {
	if err := e.reload(ctx); err != nil {
		e.log.Error("policy reload after change", "error", err)
	}
	e.notify()
}

// Grants lists role grants, optionally for one user.
func (e *Enforcer) Grants(ctx context.Context, userID string) ([]Grant, error) {
	q := e.db.Gorm.WithContext(ctx).Table("casbin_rule").Where("ptype = 'g'")
	if userID != "" {
		q = q.Where("v0 = ?", Subject(userID))
	}
	var rows []gormadapter.CasbinRule
	if err := q.Order("v0, v2, v1").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list role grants: %w", err)
	}
	out := make([]Grant, 0, len(rows))
	for _, r := range rows {
		out = append(out, Grant{UserID: strings.TrimPrefix(r.V0, "user:"), Role: r.V1, Domain: r.V2})
	}
	return out, nil
}

// HasStaffRole reports whether the user holds any role that requires a
// second factor.
func (e *Enforcer) HasStaffRole(ctx context.Context, userID string) (bool, error) {
	gs, err := e.Grants(ctx, userID)
	if err != nil {
		return false, err
	}
	for _, g := range gs {
		if slices.Contains(StaffRoles, g.Role) {
			return true, nil
		}
	}
	return false, nil
}

// Close stops the watcher's connection (before the pool closes, or shutdown hangs).
func (e *Enforcer) Close() {
	if e.watcher != nil {
		e.watcher.Close()
	}
}
