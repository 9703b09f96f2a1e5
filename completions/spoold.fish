function __spoold_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __spoold_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __spoold_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __spoold_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __spoold_parse_tokens -S
    set -l unparsed_tokens (__spoold_tokens -pc)
    switch $unparsed_tokens[1]
    case 'spoold'
        __spoold_parse_subcommand 0 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'run'
            __spoold_parse_subcommand 0 'config=' 'check-config' 'spool-dir=' 'backend=' 'ami-host=' 'ami-port=' 'ami-user=' 'ami-secret-file=' 'ami-tls' 'no-ami-tls' 'ami-tls-ca-file=' 'ami-tls-server-name=' 'ami-tls-verify' 'no-ami-tls-verify' 'ami-md5' 'no-ami-md5' 'ami-transport=' 'ami-http-prefix=' 'ami-selection=' 'max-concurrent=' 'max-cps=' 'limit=+' 'finish-at-answer' 'no-finish-at-answer' 'fsync' 'no-fsync' 'poll' 'no-poll' 'standby' 'no-standby' 'log-level=' 'log-format=' 'shutdown-grace=' 'metrics-listen=' 'metrics-allow-remote' 'no-metrics-allow-remote' 'result-log=' 'on-finish=' 'on-finish-concurrency=' 'on-finish-timeout=' 'version' 'h/help'
        case 'check'
            __spoold_parse_subcommand -r 1 'json' 'version' 'h/help'
        case 'status'
            __spoold_parse_subcommand 0 'spool-dir=' 'metrics-listen=' 'json' 'version' 'h/help'
        case 'queue'
            __spoold_parse_subcommand 0 'spool-dir=' 'json' 'version' 'h/help'
        case 'cancel'
            __spoold_parse_subcommand -r 1 'spool-dir=' 'version' 'h/help'
        case 'reschedule'
            __spoold_parse_subcommand 1 'spool-dir=' 'at=' 'in=' 'version' 'h/help'
        case 'ami-ping'
            __spoold_parse_subcommand 0 'host=' 'port=' 'user=' 'secret-file=' 'tls' 'tls-ca-file=' 'tls-server-name=' 'tls-verify' 'no-tls-verify' 'md5' 'timeout=' 'version' 'h/help'
        case 'originate'
            __spoold_parse_subcommand 0 'channel=' 'app=' 'data=' 'context=' 'exten=' 'priority=' 'callerid=' 'wait-time=' 'max-retries=' 'retry-time=' 'account=' 'set=+' 'codecs=+' 'early-media' 'archive' 'no-always-delete' 'ami-host=' 'ami-port=' 'ami-user=' 'ami-secret-file=' 'ami-tls' 'no-ami-tls' 'ami-tls-ca-file=' 'ami-tls-server-name=' 'ami-tls-verify' 'no-ami-tls-verify' 'ami-md5' 'no-ami-md5' 'ami-transport=' 'ami-http-prefix=' 'finish-at-answer' 'debug' 'version' 'h/help'
        case 'help'
            __spoold_parse_subcommand -r 1 'version'
        end
    end
end

function __spoold_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __spoold_parse_subcommand -S -a positional_count
    argparse -s r -- $argv
    set -l option_specs $argv[2..]
    set -l is_repeating_positional $_flag_r
    set -el _flag_r
    set -a commands $unparsed_tokens[1]
    set positional_index 0
    while true
        set -e unparsed_tokens[1]
        argparse -sn "$commands" $option_specs -- $unparsed_tokens 2> /dev/null
        set unparsed_tokens $argv
        set positional_index (math $positional_index + 1)
        for non_repeating_flag_or_option in $non_repeating_flags_or_options
            if set -ql "_flag_$(string replace -a - _ -- $non_repeating_flag_or_option)"
                set non_repeating_flags_or_options_absent 1
                break
            end
        end
        test (count $unparsed_tokens) -eq 0 -o \( -z "$is_repeating_positional" -a "$positional_index" -gt "$positional_count" \) && break
    end
end

function __spoold_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __spoold_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__spoold_tokens -p)
    if test -z "$(__spoold_tokens -t)"
        set -l index (count (__spoold_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'spoold' -f
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold" version' -l 'version' -d 'Show the version.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_positional "spoold" -eq 1' -fa 'run' -d 'Processes the call files in <spool-dir>/outgoing, as Asterisk\'s spool would.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_positional "spoold" -eq 1' -fa 'check' -d 'Reads call files exactly as Asterisk would and reports every silent surprise.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_positional "spoold" -eq 1' -fa 'status' -d 'Shows what the spoold running on a spool is doing: queue, calls in flight, servers, totals.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_positional "spoold" -eq 1' -fa 'queue' -d 'Lists every call file the spoold running on a spool knows, sorted by due time.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_positional "spoold" -eq 1' -fa 'cancel' -d 'Cancels call files: a waiting file is finished at once, a call in flight is hung up first.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_positional "spoold" -eq 1' -fa 'reschedule' -d 'Moves a waiting call file\'s due time (its mtime), as mkcall\'s --at or --in say.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_positional "spoold" -eq 1' -fa 'ami-ping' -d 'Log in to Asterisk\'s AMI and measure one Ping round trip.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_positional "spoold" -eq 1' -fa 'originate' -d 'Places one call through Asterisk\'s AMI at once and follows it to its end.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_positional "spoold" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" config' -l 'config' -d 'The configuration file (Asterisk .conf format, see docs/configuration.md); default /etc/spoold/spoold.conf when it exists. Flags win over it.' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" check-config' -l 'check-config' -d 'Check the configuration (file, flags, secrets), print a summary and exit: 0 valid, 1 not (errors as file:line: key: message).'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" spool-dir' -l 'spool-dir' -d 'The spool root; call files are read from its outgoing/ and archived to its outgoing_done/ (default /var/spool/asterisk; spool_dir).' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" backend' -l 'backend' -d 'Where calls go: \'ami\' (Asterisk\'s manager interface, the default) or \'simulate\' (the built-in PBX: channel Sim/<answer|busy|congestion|noanswer|failure>[/<ring-ms>[/<talk-ms>]]); backend.' -rfka 'ami simulate'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" ami-host' -l 'ami-host' -d 'AMI host (default 127.0.0.1; ami_host).' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" ami-port' -l 'ami-port' -d 'AMI port (TCP: 5038, or 5039 with --ami-tls; HTTP: 8088, or 8089 with --ami-tls).' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" ami-user' -l 'ami-user' -d 'AMI user (manager.conf section).' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" ami-secret-file' -l 'ami-secret-file' -d 'File holding the AMI secret (the secret itself never goes on the command line).' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" ami-tls' -l 'ami-tls' -d 'Connect to AMI over TLS (ami_tls; default no).'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" no-ami-tls' -l 'no-ami-tls' -d 'Connect to AMI over TLS (ami_tls; default no).'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" ami-tls-ca-file' -l 'ami-tls-ca-file' -d 'With --ami-tls: PEM file of the CA that signed Asterisk\'s certificate; the only CA trusted (default: the system\'s trust store; ami_tls_ca_file).' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" ami-tls-server-name' -l 'ami-tls-server-name' -d 'With --ami-tls: the name Asterisk\'s certificate must carry, when it is not --ami-host (also sent as SNI; ami_tls_server_name).' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" ami-tls-verify' -l 'ami-tls-verify' -d 'With --ami-tls: verify Asterisk\'s certificate (chain, validity, name; ami_tls_verify; default yes). --no-ami-tls-verify accepts any certificate, an attacker\'s too: for tests only.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" no-ami-tls-verify' -l 'no-ami-tls-verify' -d 'With --ami-tls: verify Asterisk\'s certificate (chain, validity, name; ami_tls_verify; default yes). --no-ami-tls-verify accepts any certificate, an attacker\'s too: for tests only.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" ami-md5' -l 'ami-md5' -d 'Log in with the MD5 challenge (over HTTP: digest authentication on /arawman), so the secret never crosses the wire (ami_md5; default no).'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" no-ami-md5' -l 'no-ami-md5' -d 'Log in with the MD5 challenge (over HTTP: digest authentication on /arawman), so the secret never crosses the wire (ami_md5; default no).'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" ami-transport' -l 'ami-transport' -d 'How AMI is reached: \'tcp\' (the manager port) or \'http\' (Asterisk\'s HTTP server, /rawman; only when TCP is not reachable).' -rfka 'tcp http'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" ami-http-prefix' -l 'ami-http-prefix' -d 'Path of AMI\'s raw encoding on the HTTP server (with --ami-transport http).' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" ami-selection' -l 'ami-selection' -d 'With several [ami:NAME] servers: \'failover\' (first one up, the default) or \'spread\' (by weight); ami_selection.' -rfka 'failover spread'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" max-concurrent' -l 'max-concurrent' -d 'At most this many calls in flight, from Originate until the attempt ends (0 = no limit; default 100; max_concurrent).' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" max-cps' -l 'max-cps' -d 'At most this many new Originates per second (0 = no limit; default 50; max_cps).' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run"' -l 'limit' -d 'Limits for the calls whose Channel matches a glob, on top of the global ones, as PATTERN=MAX_CONCURRENT[,MAX_CPS] (0 = no limit); repeatable; replaces the [limit:PATTERN] section of the same pattern.' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" finish-at-answer' -l 'finish-at-answer' -d 'Finish a call (Completed) when it is answered instead of when it hangs up (finish_at_answer; default no).'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" no-finish-at-answer' -l 'no-finish-at-answer' -d 'Finish a call (Completed) when it is answered instead of when it hangs up (finish_at_answer; default no).'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" fsync' -l 'fsync' -d 'Sync each call file to disk after each record spoold writes (retry records, Status line, a rewritten file) and its directories after each rename, so that they survive a power loss; costs throughput (fsync; default no, as in Asterisk).'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" no-fsync' -l 'no-fsync' -d 'Sync each call file to disk after each record spoold writes (retry records, Status line, a rewritten file) and its directories after each rename, so that they survive a power loss; costs throughput (fsync; default no, as in Asterisk).'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" poll' -l 'poll' -d 'Poll outgoing/ every second instead of using inotify, for spools on NFS (poll; default no).'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" no-poll' -l 'no-poll' -d 'Poll outgoing/ every second instead of using inotify, for spools on NFS (poll; default no).'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" standby' -l 'standby' -d 'When another spoold holds the spool, wait and take over as soon as it ends or dies (calls in flight recovered as after a crash) instead of exiting (standby; default no).'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" no-standby' -l 'no-standby' -d 'When another spoold holds the spool, wait and take over as soon as it ends or dies (calls in flight recovered as after a crash) instead of exiting (standby; default no).'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" log-level' -l 'log-level' -d 'trace, debug, info, notice, warning or error (default info; log_level).' -rfka 'trace debug info notice warning error critical'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" log-format' -l 'log-format' -d 'plain (timestamped lines), journald (<N> priority prefixes, no timestamp) or json (one object per line). Default: journald when stderr is systemd\'s journal stream, else plain.' -rfka 'plain journald json'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" shutdown-grace' -l 'shutdown-grace' -d 'On SIGTERM, seconds that calls in flight get to end before spoold exits anyway (they are recovered at the next start; default 10; shutdown_grace).' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" metrics-listen' -l 'metrics-listen' -d 'Serve Prometheus metrics at http://ADDR/metrics and the status at /status.' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" metrics-allow-remote' -l 'metrics-allow-remote' -d 'Allow --metrics-listen on a non-loopback address (the figures carry no secrets, but no file names either way; protect it with a firewall).'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" no-metrics-allow-remote' -l 'no-metrics-allow-remote' -d 'Allow --metrics-listen on a non-loopback address (the figures carry no secrets, but no file names either way; protect it with a firewall).'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" result-log' -l 'result-log' -d 'Append one JSON line per finished call file to this file.' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" on-finish' -l 'on-finish' -d 'Run this command with /bin/sh -c for each finished call file.' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" on-finish-concurrency' -l 'on-finish-concurrency' -d 'At most this many on_finish commands run at once (default 4).' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" on-finish-timeout' -l 'on-finish-timeout' -d 'Seconds an on_finish command may run before it gets SIGTERM (SIGKILL 5 s later; default 30).' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" version' -l 'version' -d 'Show the version.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold check" json' -l 'json' -d 'Print one JSON object per file (one per line) instead of text.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold check" version' -l 'version' -d 'Show the version.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold check" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold status" spool-dir' -l 'spool-dir' -d 'The spool root the daemon runs on.' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold status" metrics-listen' -l 'metrics-listen' -d 'Ask the daemon\'s metrics endpoint (its --metrics-listen address) instead.' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold status" json' -l 'json' -d 'Print the status as JSON (the daemon\'s snapshot; times in epoch seconds).'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold status" version' -l 'version' -d 'Show the version.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold status" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold queue" spool-dir' -l 'spool-dir' -d 'The spool root the daemon runs on (default /var/spool/asterisk); its control socket is <spool-dir>/.spoold.control.' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold queue" json' -l 'json' -d 'Print a JSON array, one object per file and line (due in epoch seconds and as due_utc; null where not known).'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold queue" version' -l 'version' -d 'Show the version.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold queue" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold cancel" spool-dir' -l 'spool-dir' -d 'The spool root the daemon runs on (default /var/spool/asterisk); its control socket is <spool-dir>/.spoold.control.' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold cancel" version' -l 'version' -d 'Show the version.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold cancel" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold reschedule" spool-dir' -l 'spool-dir' -d 'The spool root the daemon runs on (default /var/spool/asterisk); its control socket is <spool-dir>/.spoold.control.' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold reschedule" at' -l 'at' -d 'Due at this time: epoch seconds or ISO 8601 with a zone (2026-11-23T07:30:00Z), as mkcall --at.' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold reschedule" in' -l 'in' -d 'Due this long from now: 90s, 5m, 2h, 1h30m, as mkcall --in.' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold reschedule" version' -l 'version' -d 'Show the version.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold reschedule" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold ami-ping" host' -l 'host' -d 'AMI host.' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold ami-ping" port' -l 'port' -d 'AMI port (5038 plain, 5039 TLS by Asterisk\'s defaults).' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold ami-ping" user' -l 'user' -d 'AMI username.' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold ami-ping" secret-file' -l 'secret-file' -d 'File holding the secret (a trailing newline is ignored).' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold ami-ping" tls' -l 'tls' -d 'Connect with TLS, verifying the certificate.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold ami-ping" ca-file tls-ca-file' -l 'tls-ca-file' -l 'ca-file' -d 'With --tls: PEM file of the CA that signed Asterisk\'s certificate; the only CA trusted (default: the system\'s trust store).' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold ami-ping" tls-server-name' -l 'tls-server-name' -d 'With --tls: the name Asterisk\'s certificate must carry, when it is not --host (also sent as SNI).' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold ami-ping" tls-verify' -l 'tls-verify' -d 'With --tls: verify Asterisk\'s certificate (chain, validity, name). --no-tls-verify accepts any certificate: for tests only.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold ami-ping" no-tls-verify' -l 'no-tls-verify' -d 'With --tls: verify Asterisk\'s certificate (chain, validity, name). --no-tls-verify accepts any certificate: for tests only.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold ami-ping" md5' -l 'md5' -d 'Log in by MD5 challenge, so the secret never crosses the wire.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold ami-ping" timeout' -l 'timeout' -d 'Seconds allowed for connecting, logging in and the Ping.' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold ami-ping" version' -l 'version' -d 'Show the version.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold ami-ping" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold originate" channel' -l 'channel' -d 'Outbound channel as Tech/Resource, e.g. PJSIP/100 or Local/s@wakeup.' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold originate" app' -l 'app' -d 'Application to run once answered (application mode), e.g. Playback.' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold originate" data' -l 'data' -d 'Arguments for --app, passed literally (no ${...} expansion).' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold originate" context' -l 'context' -d 'Dialplan context to continue in once answered (dialplan mode).' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold originate" exten' -l 'exten' -d 'Dialplan extension to continue at once answered (dialplan mode).' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold originate" priority' -l 'priority' -d 'Dialplan priority, a positive number (labels are not supported). (default: 1)' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold originate" callerid' -l 'callerid' -d 'Caller ID of the outbound leg, e.g. \'"Wakeup" <100>\'.' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold originate" wait-time' -l 'wait-time' -d 'Seconds to ring before giving up. (default: 45)' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold originate" max-retries' -l 'max-retries' -d 'Retries after the first attempt; negative expires the file without dialling. (default: 0)' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold originate" retry-time' -l 'retry-time' -d 'Seconds between attempts. (default: 300)' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold originate" account' -l 'account' -d 'Account code of the outbound channel.' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold originate"' -l 'set' -d 'Channel variable NAME=VALUE; repeat for more. A later NAME wins.' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold originate"' -l 'codecs' -d 'Codec changes, e.g. \'ulaw,!slin\' (the set starts as slin); repeat to apply in turn.' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold originate" early-media' -l 'early-media' -d 'Treat early media as answer (dialplan mode only).'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold originate" archive' -l 'archive' -d 'Keep the finished file in outgoing_done/ with a Status line instead of deleting it.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold originate" no-always-delete' -l 'no-always-delete' -d 'Keep the file if the dialplan moved its mtime into the future during the call.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold originate" ami-host' -l 'ami-host' -d 'AMI host (default 127.0.0.1; ami_host).' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold originate" ami-port' -l 'ami-port' -d 'AMI port (TCP: 5038, or 5039 with --ami-tls; HTTP: 8088, or 8089 with --ami-tls).' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold originate" ami-user' -l 'ami-user' -d 'AMI user (manager.conf section).' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold originate" ami-secret-file' -l 'ami-secret-file' -d 'File holding the AMI secret (the secret itself never goes on the command line).' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold originate" ami-tls' -l 'ami-tls' -d 'Connect to AMI over TLS (ami_tls; default no).'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold originate" no-ami-tls' -l 'no-ami-tls' -d 'Connect to AMI over TLS (ami_tls; default no).'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold originate" ami-tls-ca-file' -l 'ami-tls-ca-file' -d 'With --ami-tls: PEM file of the CA that signed Asterisk\'s certificate; the only CA trusted (default: the system\'s trust store; ami_tls_ca_file).' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold originate" ami-tls-server-name' -l 'ami-tls-server-name' -d 'With --ami-tls: the name Asterisk\'s certificate must carry, when it is not --ami-host (also sent as SNI; ami_tls_server_name).' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold originate" ami-tls-verify' -l 'ami-tls-verify' -d 'With --ami-tls: verify Asterisk\'s certificate (chain, validity, name; ami_tls_verify; default yes). --no-ami-tls-verify accepts any certificate, an attacker\'s too: for tests only.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold originate" no-ami-tls-verify' -l 'no-ami-tls-verify' -d 'With --ami-tls: verify Asterisk\'s certificate (chain, validity, name; ami_tls_verify; default yes). --no-ami-tls-verify accepts any certificate, an attacker\'s too: for tests only.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold originate" ami-md5' -l 'ami-md5' -d 'Log in with the MD5 challenge (over HTTP: digest authentication on /arawman), so the secret never crosses the wire (ami_md5; default no).'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold originate" no-ami-md5' -l 'no-ami-md5' -d 'Log in with the MD5 challenge (over HTTP: digest authentication on /arawman), so the secret never crosses the wire (ami_md5; default no).'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold originate" ami-transport' -l 'ami-transport' -d 'How AMI is reached: \'tcp\' (the manager port) or \'http\' (Asterisk\'s HTTP server, /rawman; only when TCP is not reachable).' -rfka 'tcp http'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold originate" ami-http-prefix' -l 'ami-http-prefix' -d 'Path of AMI\'s raw encoding on the HTTP server (with --ami-transport http).' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold originate" finish-at-answer' -l 'finish-at-answer' -d 'Stop following the call once it is answered instead of waiting for its hangup.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold originate" debug' -l 'debug' -d 'Print the AMI messages sent and received to stderr (Secret and Key values masked).'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold originate" version' -l 'version' -d 'Show the version.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold originate" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold help" version' -l 'version' -d 'Show the version.'
