#!/usr/bin/perl
# corpus.pl — the training text for Rose's local embedder, from dictionaries
# Debian ships: WordNet (wordnet-base) and GCIDE (dict-gcide).
#
#   corpus.pl WORDNET_DIR GCIDE_DICT_DZ LINKS > corpus.txt
#
# Prints one normalised "sentence" per line: lowercase ASCII words separated
# by single spaces (normalise() below; lib/engines/embed_local.c tokenises
# queries the same way).  Dictionary text teaches a word's meaning through
# the words that define it, so each line puts a headword next to its
# definition:
#   WordNet, per synset: its synonyms and its gloss; its synonyms and the
#     synonyms of related synsets (hypernym, similar, also-see, derived
#     form, verb group), so "mom" meets "mother" and "die" meets "death";
#     each usage example on its own line.
#   GCIDE, per sense: the headword and that sense's text, with markup,
#     pronunciations, etymologies and quotation authors removed.
# LINKS gets pairs of words ("a b" lines) whose vectors export.c pulls
# together after training: WordNet synonyms ("sick ill"), a word and its
# hypernym's words ("mom mother"), and an inflected form of the corpus and
# its WordNet lemma ("died die", "mourning mourn").
use strict;
use warnings;

my ($wndir, $gcide, $links_path) = @ARGV;
die "usage: corpus.pl WORDNET_DIR GCIDE_DICT_DZ LINKS\n" unless defined $links_path;
open(my $links, '>', $links_path) or die "$links_path: $!\n";
my %corpus_words;

# Lowercase, keep ASCII letters; a possessive "'s" goes, other apostrophes
# are dropped inside a word ("don't" -> "dont"); everything else separates
# words.  Must match tokenize() in lib/engines/embed_local.c.
sub normalise {
    my $s = lc shift;
    $s =~ s/'s\b//g;
    $s =~ s/'//g;
    $s =~ s/[^a-z]+/ /g;
    $s =~ s/^ +| +$//g;
    return $s;
}

sub emit {
    my $s = normalise(shift);
    return unless $s =~ / /;    # a line of one word teaches nothing
    print "$s\n";
    $corpus_words{$_} = 1 for split / /, $s;
}

# Link every single-word member of list a with every one of list b (a
# word is not linked to itself).
sub link_words {
    my ($a, $b) = @_;
    my @x = grep { !/ / } map { normalise($_) } @$a;
    my @y = grep { !/ / } map { normalise($_) } @$b;
    for my $u (@x) {
        for my $v (@y) {
            print $links "$u $v\n" if $u ne '' && $v ne '' && $u ne $v;
        }
    }
}

# --- WordNet -------------------------------------------------------------
# data.* lines: offset lexfile pos w_cnt (word lex_id)... p_cnt
# (ptr offset pos src/tgt)... [frames] | gloss; "example"; ...
my (%words, @synsets, %lemma);
my %keep_ptr = map { $_ => 1 } ('@', '@i', '&', '^', '+', '$');
for my $pos (qw(noun verb adj adv)) {
    open(my $fh, '<', "$wndir/data.$pos") or die "$wndir/data.$pos: $!\n";
    while (my $line = <$fh>) {
        next if $line =~ /^  /;    # licence header
        my ($head, $gloss) = split /\s\|\s/, $line, 2;
        my @f = split ' ', $head;
        my ($off, $ss) = ($f[0], $f[2]);
        $ss = 'a' if $ss eq 's';
        my $wcnt = hex $f[3];
        my @w = map { my $x = $f[4 + 2 * $_]; $x =~ s/\(.*\)$//; $x =~ tr/_/ /; $x } 0 .. $wcnt - 1;
        my $i = 4 + 2 * $wcnt;
        my $pcnt = $f[$i++];
        my @rel;
        for (1 .. $pcnt) {
            my ($sym, $poff, $ppos) = @f[$i, $i + 1, $i + 2];
            $ppos = 'a' if $ppos eq 's';
            push @rel, "$ppos$poff" if $keep_ptr{$sym};
            $i += 4;
        }
        my @hyper;
        for (my $j = 4 + 2 * $wcnt + 1; $j < 4 + 2 * $wcnt + 1 + 4 * $pcnt; $j += 4) {
            my $ppos = $f[$j + 2] eq 's' ? 'a' : $f[$j + 2];
            push @hyper, "$ppos$f[$j + 1]" if $f[$j] eq '@';
        }
        $words{"$ss$off"} = [@w];
        push @synsets, [\@w, \@rel, $gloss // '', \@hyper];
    }
    close $fh;
}
for my $s (@synsets) {
    my ($wl, $rel, $gloss, $hyper) = @$s;
    my $w = join(' ', @$wl);
    my %seen;
    my @r = grep { defined && !$seen{$_}++ } map { join(' ', @{ $words{$_} // [] }) } @$rel;
    my @ex = $gloss =~ /"([^"]*)"/g;
    (my $def = $gloss) =~ s/"[^"]*"//g;
    emit("$w $def");
    emit("$w $_") for @r;
    emit($_) for @ex;
    link_words($wl, $wl);
    link_words($wl, $words{$_} // []) for @$hyper;
}

# --- GCIDE ---------------------------------------------------------------
# dictd text: an entry starts at column 0 ("Word \Pro*nun"ci*a`tion\, n.
# [etymology]"), its senses are indented and numbered.  Entries before the
# first letter file are the database's own notes.
open(my $gz, '-|', 'gzip', '-dc', $gcide) or die "$gcide: $!\n";
my ($entry, $started) = ('', 0);
sub flush_entry {
    my $e = shift;
    return unless $e =~ /^([^\\\n]+?)\s*\\/;    # headword before the pronunciation
    my $hw = $1;
    $e =~ s/^[^\n]*\n?//;                        # the headword line
    $e =~ s/\\[^\\\n]*\\//g;                    # pronunciations
    1 while $e =~ s/\[[^\[\]]*\]//g;            # [markup], [etymology], [1913 Webster]
    $e =~ s/--\s*[A-Z][\w.]*(?:\s+[A-Z][\w.]*)*//g; # quotation authors
    $e =~ s/[{}]//g;                             # {cross-reference} keeps its text
    for my $sense (split /\s\d+\.\s/, $e) {
        emit("$hw $sense");
    }
}
while (my $line = <$gz>) {
    $started = 1 if !$started && $line =~ /^A \\/;
    next unless $started;
    if ($line =~ /^\S/) {
        flush_entry($entry);
        $entry = '';
    }
    $entry .= $line;
}
flush_entry($entry);
close $gz or die "gzip -dc $gcide failed\n";

# --- inflections ---------------------------------------------------------
# WordNet's own rules (morphy(7WN)): the exception lists, then suffix rules
# whose result is a lemma of that part of speech.
my %exc;
for my $pos (qw(noun verb adj)) {
    open(my $fh, '<', "$wndir/$pos.exc") or die "$wndir/$pos.exc: $!\n";
    while (<$fh>) {
        my ($infl, @base) = split;
        push @{ $exc{$infl} }, @base;
    }
    close $fh;
}
my %rules = (
    noun => [qw(s - ses s xes x zes z ches ch shes sh men man ies y)],
    verb => [qw(s - ies y es e es - ed e ed - ing e ing -)],
    adj  => [qw(er - est - er e est e)],
);
for my $pos (qw(noun verb adj)) {
    open(my $fh, '<', "$wndir/index.$pos") or die "$wndir/index.$pos: $!\n";
    while (<$fh>) {
        my ($l) = split;
        $lemma{$pos}{$l} = 1 if $l =~ /^[a-z]+$/;
    }
    close $fh;
}
for my $w (sort keys %corpus_words) {
    my %base = map { normalise($_) => 1 } @{ $exc{$w} // [] };
    for my $pos (keys %rules) {
        my @r = @{ $rules{$pos} };
        while (my ($suf, $rep) = splice(@r, 0, 2)) {
            next unless $w =~ /^(.+)\Q$suf\E$/;
            my $b = $1 . ($rep eq '-' ? '' : $rep);
            $base{$b} = 1 if $lemma{$pos}{$b};
        }
    }
    delete $base{$w};
    print $links "$w $_\n" for sort keys %base;
}
close $links or die "$links_path: $!\n";
