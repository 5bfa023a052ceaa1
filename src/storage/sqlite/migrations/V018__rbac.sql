-- Roles and policies (#91-#100). A policy is a JSON document (<= 2 KB) of node filters and
-- statements; a role holds 1..10 policies and an optional level (0 = highest); a user holds
-- roles. The RM_DEFAULT_* rows are the defaults, which nobody changes or deletes.
CREATE TABLE rbac_policies (
    policy_name TEXT PRIMARY KEY,
    policy_json TEXT NOT NULL,
    is_default  INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL
);

CREATE TABLE rbac_roles (
    role_name  TEXT PRIMARY KEY,
    role_level INTEGER,                      -- NULL = none: nobody restricted can assign it
    is_default INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);

-- A role's policies in the order given; a policy attached to a role cannot be deleted.
CREATE TABLE rbac_role_policies (
    role_name   TEXT NOT NULL REFERENCES rbac_roles(role_name) ON DELETE CASCADE,
    policy_name TEXT NOT NULL REFERENCES rbac_policies(policy_name),
    position    INTEGER NOT NULL,
    PRIMARY KEY (role_name, policy_name)
);
CREATE INDEX rbac_role_policies_policy ON rbac_role_policies(policy_name);

-- A role assigned to a user cannot be deleted; the assignment goes with the account.
CREATE TABLE rbac_user_roles (
    user_id   TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    role_name TEXT NOT NULL REFERENCES rbac_roles(role_name),
    PRIMARY KEY (user_id, role_name)
);
CREATE INDEX rbac_user_roles_role ON rbac_user_roles(role_name);

INSERT INTO rbac_policies(policy_name, policy_json, is_default, created_at) VALUES
    ('RM_DEFAULT_FULL_ACCESS',
     '{"version":"1.0.0","statement":[{"Effect":"Allow","Action":["api:*"],"Resource":["/v1/admin/*"]}]}',
     1, 0),
    ('RM_DEFAULT_READ_ONLY',
     '{"version":"1.0.0","statement":[{"Effect":"Allow","Action":["api:Get"],"Resource":["/v1/admin/*"]}]}',
     1, 0);
INSERT INTO rbac_roles(role_name, role_level, is_default, created_at) VALUES
    ('RM_DEFAULT_ADMIN', 0, 1, 0),
    ('RM_DEFAULT_READ_ONLY', 10, 1, 0);
INSERT INTO rbac_role_policies(role_name, policy_name, position) VALUES
    ('RM_DEFAULT_ADMIN', 'RM_DEFAULT_FULL_ACCESS', 0),
    ('RM_DEFAULT_READ_ONLY', 'RM_DEFAULT_READ_ONLY', 0);
