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
        __spoold_parse_subcommand 0 'h/help'
        switch $unparsed_tokens[1]
        case 'run'
            __spoold_parse_subcommand 0 'spool-dir=' 'backend=' 'ami-host=' 'ami-port=' 'ami-user=' 'ami-secret-file=' 'ami-tls' 'ami-md5' 'max-concurrent=' 'max-cps=' 'finish-at-answer' 'poll' 'log-level=' 'log-format=' 'shutdown-grace=' 'h/help'
        case 'check'
            __spoold_parse_subcommand -r 1 'json' 'h/help'
        case 'ami-ping'
            __spoold_parse_subcommand 0 'host=' 'port=' 'user=' 'secret-file=' 'tls' 'ca-file=' 'md5' 'timeout=' 'h/help'
        case 'help'
            __spoold_parse_subcommand -r 1 
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
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_positional "spoold" -eq 1' -fa 'run' -d 'Processes the call files in <spool-dir>/outgoing, as Asterisk\'s spool would.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_positional "spoold" -eq 1' -fa 'check' -d 'Reads call files exactly as Asterisk would and reports every silent surprise.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_positional "spoold" -eq 1' -fa 'ami-ping' -d 'Log in to Asterisk\'s AMI and measure one Ping round trip.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_positional "spoold" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" spool-dir' -l 'spool-dir' -d 'The spool root; call files are read from its outgoing/ and archived to its outgoing_done/.' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" backend' -l 'backend' -d 'Where calls go: \'ami\' (Asterisk\'s manager interface) or \'simulate\' (the built-in PBX: channel Sim/<answer|busy|congestion|noanswer|failure>[/<ring-ms>[/<talk-ms>]]).' -rfka 'ami simulate'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" ami-host' -l 'ami-host' -d 'AMI host.' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" ami-port' -l 'ami-port' -d 'AMI port (5038, or 5039 with --ami-tls).' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" ami-user' -l 'ami-user' -d 'AMI user (manager.conf section).' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" ami-secret-file' -l 'ami-secret-file' -d 'File holding the AMI secret (the secret itself never goes on the command line).' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" ami-tls' -l 'ami-tls' -d 'Connect to AMI over TLS.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" ami-md5' -l 'ami-md5' -d 'Log in with the MD5 challenge, so the secret never crosses the wire.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" max-concurrent' -l 'max-concurrent' -d 'At most this many calls in flight, from Originate until the attempt ends (0 = no limit).' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" max-cps' -l 'max-cps' -d 'At most this many new Originates per second (0 = no limit).' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" finish-at-answer' -l 'finish-at-answer' -d 'Finish a call (Completed) when it is answered instead of when it hangs up.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" poll' -l 'poll' -d 'Poll outgoing/ every second instead of using inotify (for spools on NFS).'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" log-level' -l 'log-level' -d 'trace, debug, info, notice, warning or error.' -rfka 'trace debug info notice warning error critical'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" log-format' -l 'log-format' -d 'plain (timestamped lines), journald (<N> priority prefixes, no timestamp) or json (one object per line). Default: journald when stderr is systemd\'s journal stream, else plain.' -rfka 'plain journald json'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" shutdown-grace' -l 'shutdown-grace' -d 'On SIGTERM, seconds that calls in flight get to end before spoold exits anyway (they are recovered at the next start).' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold run" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold check" json' -l 'json' -d 'Print one JSON object per file (one per line) instead of text.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold check" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold ami-ping" host' -l 'host' -d 'AMI host.' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold ami-ping" port' -l 'port' -d 'AMI port (5038 plain, 5039 TLS by Asterisk\'s defaults).' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold ami-ping" user' -l 'user' -d 'AMI username.' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold ami-ping" secret-file' -l 'secret-file' -d 'File holding the secret (a trailing newline is ignored).' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold ami-ping" tls' -l 'tls' -d 'Connect with TLS, verifying the certificate.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold ami-ping" ca-file' -l 'ca-file' -d 'PEM file of the CA to trust for --tls.' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold ami-ping" md5' -l 'md5' -d 'Log in by MD5 challenge, so the secret never crosses the wire.'
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold ami-ping" timeout' -l 'timeout' -d 'Seconds allowed for connecting, logging in and the Ping.' -rfka ''
complete -c 'spoold' -n '__spoold_should_offer_completions_for_flags_or_options "spoold ami-ping" h help' -s 'h' -l 'help' -d 'Show help information.'
