DROP TABLE monitor.invitations;
DROP TABLE monitor.sessions;
