DROP TABLE monitor.sync_state;
