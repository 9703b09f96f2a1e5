function __mkcall_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __mkcall_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __mkcall_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __mkcall_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __mkcall_parse_tokens -S
    set -l unparsed_tokens (__mkcall_tokens -pc)
    switch $unparsed_tokens[1]
    case 'mkcall'
        __mkcall_parse_subcommand 0 'channel=' 'app=' 'data=' 'context=' 'exten=' 'priority=' 'callerid=' 'wait-time=' 'max-retries=' 'retry-time=' 'account=' 'set=+' 'codecs=+' 'early-media' 'archive' 'no-always-delete' 'at=' 'in=' 'spool-dir=' 'name=' 'owner=' 'mode=' 'print' 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'help'
            __mkcall_parse_subcommand -r 1 'version'
        end
    end
end

function __mkcall_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __mkcall_parse_subcommand -S -a positional_count
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

function __mkcall_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __mkcall_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__mkcall_tokens -p)
    if test -z "$(__mkcall_tokens -t)"
        set -l index (count (__mkcall_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'mkcall' -f
complete -c 'mkcall' -n '__mkcall_should_offer_completions_for_flags_or_options "mkcall" channel' -l 'channel' -d 'Outbound channel as Tech/Resource, e.g. PJSIP/100 or Local/s@wakeup.' -rfka ''
complete -c 'mkcall' -n '__mkcall_should_offer_completions_for_flags_or_options "mkcall" app' -l 'app' -d 'Application to run once answered (application mode), e.g. Playback.' -rfka ''
complete -c 'mkcall' -n '__mkcall_should_offer_completions_for_flags_or_options "mkcall" data' -l 'data' -d 'Arguments for --app, passed literally (no ${...} expansion).' -rfka ''
complete -c 'mkcall' -n '__mkcall_should_offer_completions_for_flags_or_options "mkcall" context' -l 'context' -d 'Dialplan context to continue in once answered (dialplan mode).' -rfka ''
complete -c 'mkcall' -n '__mkcall_should_offer_completions_for_flags_or_options "mkcall" exten' -l 'exten' -d 'Dialplan extension to continue at once answered (dialplan mode).' -rfka ''
complete -c 'mkcall' -n '__mkcall_should_offer_completions_for_flags_or_options "mkcall" priority' -l 'priority' -d 'Dialplan priority, a positive number (labels are not supported). (default: 1)' -rfka ''
complete -c 'mkcall' -n '__mkcall_should_offer_completions_for_flags_or_options "mkcall" callerid' -l 'callerid' -d 'Caller ID of the outbound leg, e.g. \'"Wakeup" <100>\'.' -rfka ''
complete -c 'mkcall' -n '__mkcall_should_offer_completions_for_flags_or_options "mkcall" wait-time' -l 'wait-time' -d 'Seconds to ring before giving up. (default: 45)' -rfka ''
complete -c 'mkcall' -n '__mkcall_should_offer_completions_for_flags_or_options "mkcall" max-retries' -l 'max-retries' -d 'Retries after the first attempt; negative expires the file without dialling. (default: 0)' -rfka ''
complete -c 'mkcall' -n '__mkcall_should_offer_completions_for_flags_or_options "mkcall" retry-time' -l 'retry-time' -d 'Seconds between attempts. (default: 300)' -rfka ''
complete -c 'mkcall' -n '__mkcall_should_offer_completions_for_flags_or_options "mkcall" account' -l 'account' -d 'Account code of the outbound channel.' -rfka ''
complete -c 'mkcall' -n '__mkcall_should_offer_completions_for_flags_or_options "mkcall"' -l 'set' -d 'Channel variable NAME=VALUE; repeat for more. A later NAME wins.' -rfka ''
complete -c 'mkcall' -n '__mkcall_should_offer_completions_for_flags_or_options "mkcall"' -l 'codecs' -d 'Codec changes, e.g. \'ulaw,!slin\' (the set starts as slin); repeat to apply in turn.' -rfka ''
complete -c 'mkcall' -n '__mkcall_should_offer_completions_for_flags_or_options "mkcall" early-media' -l 'early-media' -d 'Treat early media as answer (dialplan mode only).'
complete -c 'mkcall' -n '__mkcall_should_offer_completions_for_flags_or_options "mkcall" archive' -l 'archive' -d 'Keep the finished file in outgoing_done/ with a Status line instead of deleting it.'
complete -c 'mkcall' -n '__mkcall_should_offer_completions_for_flags_or_options "mkcall" no-always-delete' -l 'no-always-delete' -d 'Keep the file if the dialplan moved its mtime into the future during the call.'
complete -c 'mkcall' -n '__mkcall_should_offer_completions_for_flags_or_options "mkcall" at' -l 'at' -d 'Due time: ISO 8601 with a zone (2026-11-23T07:30:00Z) or epoch seconds. Sets the file\'s mtime.' -rfka ''
complete -c 'mkcall' -n '__mkcall_should_offer_completions_for_flags_or_options "mkcall" in' -l 'in' -d 'Due after this long: 90s, 5m, 2h, 1d or 1h30m. Sets the file\'s mtime.' -rfka ''
complete -c 'mkcall' -n '__mkcall_should_offer_completions_for_flags_or_options "mkcall" spool-dir' -l 'spool-dir' -d 'Asterisk spool root; the file lands in <spool-dir>/outgoing. (default: /var/spool/asterisk)' -rfka ''
complete -c 'mkcall' -n '__mkcall_should_offer_completions_for_flags_or_options "mkcall" name' -l 'name' -d 'File name inside outgoing/. (default: mkcall-<UTC time>-<pid>-<random>.call)' -rfka ''
complete -c 'mkcall' -n '__mkcall_should_offer_completions_for_flags_or_options "mkcall" owner' -l 'owner' -d 'Owner of the file as USER[:GROUP], names or numeric ids (needs the right to chown).' -rfka ''
complete -c 'mkcall' -n '__mkcall_should_offer_completions_for_flags_or_options "mkcall" mode' -l 'mode' -d 'Permission bits of the file in octal, e.g. 0660.' -rfka ''
complete -c 'mkcall' -n '__mkcall_should_offer_completions_for_flags_or_options "mkcall" print' -l 'print' -d 'Write the call file to standard output instead of the spool.'
complete -c 'mkcall' -n '__mkcall_should_offer_completions_for_flags_or_options "mkcall" version' -l 'version' -d 'Show the version.'
complete -c 'mkcall' -n '__mkcall_should_offer_completions_for_flags_or_options "mkcall" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'mkcall' -n '__mkcall_should_offer_completions_for_positional "mkcall" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'mkcall' -n '__mkcall_should_offer_completions_for_flags_or_options "mkcall help" version' -l 'version' -d 'Show the version.'
