// SpoolWatcher: implementation lands with its issue.
