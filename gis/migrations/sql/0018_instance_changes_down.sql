DROP TABLE monitor.instance_changes;
