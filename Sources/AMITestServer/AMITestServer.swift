// AMITestServer: implementation lands with its issue.
