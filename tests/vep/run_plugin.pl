#!/usr/bin/perl
# Drive plugins/vep/SpliceAnnot.pm the way Ensembl VEP does, for tests.
#
# Reads one JSON object on stdin:
#   {"params": ["fasta=...", ...], "config": {"output_format": "vcf"},
#    "cases": [{"chrom": "chr16", "pos": 189178, "ref": "AC", "alts": ["A"],
#               "allele_number": 1, "symbol": "LUC7L", "strand": -1, "from_vcf": true}, ...],
#    "fork": 0|1, "finish": 0|1, "kill": 0|1}
# and writes {"header": {...}, "results": [...], "socket": PATH, "keeper_pid": N, "server_pid": N,
# "requests": N, "forked": {...}, "health": {...}}; with "kill" it writes the socket and pids
# and then kills itself with SIGKILL, as a VEP killed outright.
#
# The variation features, transcripts and transcript variation alleles below
# are STAND-INS with just what the plugin reads from VEP's objects: a feature
# is made from a VCF record with VEP's own rules (the shared leading base of an
# indel's alleles trimmed, '-' for an empty allele), keeps the VCF columns in
# _line as VEP's VCF parser does, and to_VCF_record gives the VCF form back
# (for features read from a VCF it dies instead: the plugin must use _line, the
# input's own representation, which VEP keeps even after it minimises alleles).
use strict;
use warnings;
use JSON::PP;

use SpliceAnnot;

my $json = JSON::PP->new->utf8->canonical;
my $spec = $json->decode(do { local $/; <STDIN> });

package StandIn::VariationFeature {
  sub from_vcf {
    my ($class, $case) = @_;
    my ($ref, @alts) = ($case->{ref}, @{ $case->{alts} });
    my $start = $case->{pos};
    my $indel = grep { length($_) != length($ref) } @alts;
    my %first = map { substr($_, 0, 1) => 1 } grep { !/\*/ } ($ref, @alts);
    if ($indel && keys(%first) == 1) {
      $ref = substr($ref, 1) || '-';
      @alts = map { /\*/ ? $_ : (substr($_, 1) || '-') } @alts;
      $start++;
    }
    my $self = {
      chr => $case->{chrom}, start => $start, end => $start + length($ref eq '-' ? '' : $ref) - 1,
      allele_string => join('/', $ref, @alts), vcf => [@$case{qw(chrom pos)}, '.', $case->{ref}, join(',', @{ $case->{alts} })],
    };
    $self->{_line} = [@{ $self->{vcf} }, '.', 'PASS', '.'] if $case->{from_vcf};
    return bless $self, $class;
  }
  sub allele_string { $_[0]->{allele_string} }
  sub to_VCF_record {    # VEP rebuilds the record from the reference; the VCF's own line is preferred
    die "stand-in: a feature read from a VCF is converted from its _line\n" if $_[0]->{_line};
    return [ @{ $_[0]->{vcf} }, '.', '.', '.' ];
  }
}

package StandIn::Transcript {
  sub strand { $_[0]->{strand} }
}

package StandIn::TranscriptVariationAllele {
  sub variation_feature { $_[0]->{vf} }
  sub base_variation_feature { $_[0]->{vf} }
  sub transcript { $_[0]->{transcript} }
  sub allele_number { $_[0]->{allele_number} }
  sub variation_feature_seq {    # on the transcript's strand, as VEP gives it
    my $self = shift;
    my (undef, @alts) = split m{/}, $self->{vf}->allele_string;
    my $seq = $alts[ $self->{allele_number} - 1 ];
    if ($self->{transcript}->strand < 0) {
      $seq = reverse $seq;
      $seq =~ tr/ACGTacgt/TGCAtgca/;
    }
    return $seq;
  }
}

package main;

sub tva {
  my $case = shift;
  return bless {
    vf            => StandIn::VariationFeature->from_vcf($case),
    transcript    => bless({ _gene_symbol => $case->{symbol}, strand => $case->{strand} || 1 }, 'StandIn::Transcript'),
    allele_number => $case->{allele_number} || 1,
  }, 'StandIn::TranscriptVariationAllele';
}

sub run_cases {
  my $plugin = shift;
  return [ map { $plugin->run(tva($_), {}) } @{ $spec->{cases} } ];
}

# The server the plugin started: its keeper's pid, and the keeper's child (the server itself).
sub server_pids {
  my $plugin = shift;
  my $keeper = $plugin->{server} ? $plugin->{server}->{pid} : undef;
  return (undef, undef) unless $keeper;
  open(my $fh, '<', "/proc/$keeper/task/$keeper/children") or return ($keeper, undef);
  my ($server) = split ' ', (<$fh> // '');
  return ($keeper, $server);
}

# Requests this process sent to the server.
sub requests {
  my $plugin = shift;
  my $connection = $plugin->{connection};
  return $connection && $connection->{owner} == $$ ? $connection->{next_id} - 1 : 0;
}

my $plugin = SpliceAnnot->new($spec->{config} || {}, @{ $spec->{params} });
my %out = (socket => $plugin->{socket});
@out{qw(keeper_pid server_pid)} = server_pids($plugin);
$out{directory} = $plugin->{server}->{dir} if $plugin->{server};

if ($spec->{kill}) {    # VEP killed outright: the plugin cleans up nothing itself
  print $json->encode(\%out), "\n";
  STDOUT->flush;
  kill 'KILL', $$;
}

%out = (%out, header => $plugin->get_header_info, results => run_cases($plugin));
$out{requests} = requests($plugin);

if ($spec->{fork}) {    # as VEP's --fork: a worker inherits the plugin and connects to the same server
  pipe(my $reader, my $writer) or die "pipe: $!";
  my $child = fork() // die "fork: $!";
  if ($child == 0) {
    close $reader;
    my %seen = (results => run_cases($plugin), socket => $plugin->{socket});
    $seen{requests} = requests($plugin);
    print {$writer} $json->encode(\%seen);
    close $writer;
    exit 0;    # as a VEP worker ends: DESTROY closes the worker's connection only
  }
  close $writer;
  $out{forked} = $json->decode(do { local $/; <$reader> });
  waitpid($child, 0);
  $out{forked}->{status} = $?;
  $out{server_alive_after_worker} = ($out{server_pid} && kill(0, $out{server_pid})) ? 1 : 0;
}
if ($plugin->{socket}) {    # what the server saw, from every process
  my $socket = $plugin->_connection->{socket};
  print {$socket} qq({"op": "health"}\n);
  $socket->flush;
  $out{health} = $json->decode(scalar readline($socket));
}

$plugin->finish if $spec->{finish};    # VEP calls finish() at the end of a run
undef $plugin;    # DESTROY (or finish) stops the server the plugin started
print $json->encode(\%out), "\n";
