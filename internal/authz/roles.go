package authz

// Roles. A role is granted in exactly one domain of its kind.
const (
	RoleAdmin     = "admin"
	RoleAuditor   = "auditor"
	RoleManager   = "manager"
	RoleEvaluator = "evaluator"
	RoleMentor    = "mentor"
	RoleDonor     = "donor"
	RoleOrgOwner  = "org_owner"
	RoleOrgMember = "org_member"
)

// Domain kinds.
const (
	KindSystem   = "system"
	KindFacility = "facility"
	KindOrg      = "org"
)

// roleKinds says in which kind of domain each role may be granted.
var roleKinds = map[string]string{
	RoleAdmin:     KindSystem,
	RoleAuditor:   KindSystem,
	RoleManager:   KindFacility,
	RoleEvaluator: KindFacility,
	RoleMentor:    KindFacility,
	RoleDonor:     KindFacility,
	RoleOrgOwner:  KindOrg,
	RoleOrgMember: KindOrg,
}

// StaffRoles must sign in with a second factor.
var StaffRoles = []string{RoleAdmin, RoleAuditor, RoleManager, RoleEvaluator, RoleMentor, RoleDonor}

// GrantableRoles are the roles an administrator grants by hand; organisation
// roles follow membership instead.
var GrantableRoles = []string{RoleAdmin, RoleAuditor, RoleManager, RoleEvaluator, RoleMentor, RoleDonor}

// Objects and actions named by permission rows and by handlers.
const (
	ObjAll          = "*"
	ObjRole         = "role"
	ObjUser         = "user"
	ObjAudit        = "audit"
	ObjOutbox       = "outbox"
	ObjOrganisation = "organisation"
	ObjMember       = "member"
	ObjCall         = "call"
	ObjProposal     = "proposal"
	ObjReview       = "review"
	ObjAssignment   = "assignment"
	ObjPortfolio    = "portfolio"
	ObjReport       = "report"

	ActAll     = "*"
	ActRead    = "read"
	ActCreate  = "create"
	ActUpdate  = "update"
	ActDelete  = "delete"
	ActManage  = "manage"
	ActSubmit  = "submit"
	ActScore   = "score"
	ActExport  = "export"
	ActDecide  = "decide"
	ActPublish = "publish"
	ActScreen  = "screen"
	ActGrant   = "grant"
	// ActWrite appears only in permission rows: every action but read and export.
	ActWrite = "write"
)

// permissions are the p rows: they ship with the code and replace whatever
// p rows the database holds at start. Role grants (g rows) are data.
var permissions = append(allowRows, readOnlyDenials()...)

// readOnlyDenials: auditors and donors can never change anything, whatever
// else the same person is granted (an auditor who is also a manager stays
// read-only); deny rows override allow rows, and "write" matches every
// action but read and export (see the model).
func readOnlyDenials() [][]string {
	return [][]string{
		{RoleAuditor, "*", ObjAll, ActWrite, "deny"},
		{RoleDonor, "*", ObjAll, ActWrite, "deny"},
	}
}

var allowRows = [][]string{
	// Administrators run the system and may act in every facility.
	{RoleAdmin, "system", ObjAll, ActAll, "allow"},
	{RoleAdmin, "facility:*", ObjAll, ActAll, "allow"},
	{RoleAdmin, "org:*", ObjOrganisation, ActRead, "allow"},
	{RoleAdmin, "org:*", ObjMember, ActRead, "allow"},

	// Auditors read everything and change nothing.
	{RoleAuditor, "system", ObjAll, ActRead, "allow"},
	{RoleAuditor, "system", ObjAudit, ActExport, "allow"},
	{RoleAuditor, "facility:*", ObjAll, ActRead, "allow"},
	{RoleAuditor, "org:*", ObjAll, ActRead, "allow"},

	// Facility managers run their facility's calls end to end.
	{RoleManager, "facility:*", ObjCall, ActAll, "allow"},
	{RoleManager, "facility:*", ObjProposal, ActRead, "allow"},
	{RoleManager, "facility:*", ObjProposal, ActScreen, "allow"},
	{RoleManager, "facility:*", ObjProposal, ActExport, "allow"},
	{RoleManager, "facility:*", ObjAssignment, ActManage, "allow"},
	{RoleManager, "facility:*", ObjReview, ActRead, "allow"},
	{RoleManager, "facility:*", ObjPortfolio, ActAll, "allow"},
	{RoleManager, "facility:*", ObjReport, ActAll, "allow"},

	// Evaluators score what they are assigned. Reading a proposal in a
	// facility means reading every proposal there, so evaluators and mentors
	// do not hold it: they reach only the proposals they are assigned to or
	// mentor, which domain code checks (with conflicts of interest).
	{RoleEvaluator, "facility:*", ObjCall, ActRead, "allow"},
	{RoleEvaluator, "facility:*", ObjReview, ActScore, "allow"},

	// Mentors follow the innovations they mentor.
	{RoleMentor, "facility:*", ObjCall, ActRead, "allow"},

	// Donors see aggregates only.
	{RoleDonor, "facility:*", ObjReport, ActRead, "allow"},

	// Applicants act for their organisation.
	{RoleOrgOwner, "org:*", ObjOrganisation, ActAll, "allow"},
	{RoleOrgOwner, "org:*", ObjMember, ActAll, "allow"},
	{RoleOrgOwner, "org:*", ObjProposal, ActAll, "allow"},
	{RoleOrgMember, "org:*", ObjOrganisation, ActRead, "allow"},
	{RoleOrgMember, "org:*", ObjMember, ActRead, "allow"},
	{RoleOrgMember, "org:*", ObjProposal, ActRead, "allow"},
	{RoleOrgMember, "org:*", ObjProposal, ActCreate, "allow"},
	{RoleOrgMember, "org:*", ObjProposal, ActUpdate, "allow"},
}
