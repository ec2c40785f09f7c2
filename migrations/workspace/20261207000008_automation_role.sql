-- The "Automation (runner)" role every new workspace starts with (issue 21), for workspaces made
-- before it: the service member of staff whose token a server runner holds. Its uid is made from
-- its name, as for the other roles a workspace starts with, so the desktops of a team agree on it.
-- Not added where a role of that name exists already.
INSERT INTO roles (name, is_admin, created_at, uid, log_name)
SELECT 'Automation (runner)', 0, 0,
       substr('name:' || lower(hex(lower('Automation (runner)'))), 1, 64), 'Automation (runner)'
WHERE NOT EXISTS (SELECT 1 FROM roles WHERE name = 'Automation (runner)');

INSERT INTO role_permissions (role_id, resource, action)
SELECT r.id, p.resource, p.action
FROM roles r
JOIN (SELECT 'whatsapp_chat' AS resource, 'view' AS action
      UNION ALL SELECT 'whatsapp_chat', 'send'
      UNION ALL SELECT 'whatsapp_bot', 'view'
      UNION ALL SELECT 'whatsapp_bot', 'edit'
      UNION ALL SELECT 'whatsapp_campaign', 'view'
      UNION ALL SELECT 'whatsapp_campaign', 'edit'
      UNION ALL SELECT 'whatsapp_contacts', 'view'
      UNION ALL SELECT 'whatsapp_groups', 'view'
      UNION ALL SELECT 'whatsapp_template', 'view'
      UNION ALL SELECT 'whatsapp_numbers', 'view'
      UNION ALL SELECT 'quickreplies', 'view'
      UNION ALL SELECT 'leads', 'view'
      UNION ALL SELECT 'leads', 'create') p
WHERE r.uid = substr('name:' || lower(hex(lower('Automation (runner)'))), 1, 64)
  AND NOT EXISTS (SELECT 1 FROM role_permissions x WHERE x.role_id = r.id);
