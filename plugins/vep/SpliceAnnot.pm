=head1 NAME

 SpliceAnnot - SpliceAI delta scores in Ensembl VEP, from spliceannot

=head1 SYNOPSIS

 # score every variant with the model (one `spliceannot serve` for the whole run, --fork included)
 vep -i in.vcf --dir_plugins /path/to/spliceannot/plugins/vep \
     --plugin SpliceAnnot,fasta=/path/to/genome.fa.gz,annotation=grch38

 # or read precomputed scores (Illumina's files, or `spliceannot annotate` output)
 vep -i in.vcf --plugin SpliceAnnot,file=/path/to/scores.vcf.gz,cutoff=0.5

=head1 DESCRIPTION

 Adds SpliceAI delta scores (DS) and delta positions (DP) for acceptor gain
 (AG), acceptor loss (AL), donor gain (DG) and donor loss (DL) to each
 transcript consequence, with the same output keys as VEP's SpliceAI
 plugin, so filters written for it keep working:

   tab / default output:      SpliceAI_pred=SYMBOL|DS_AG|DS_AL|DS_DG|DS_DL|DP_AG|DP_AL|DP_DG|DP_DL
   --vcf, or split_output=1:  SpliceAI_pred_SYMBOL, SpliceAI_pred_DS_AG ... SpliceAI_pred_DP_DL
   --json:                    "spliceai": {"SYMBOL": ..., "DS_AG": ..., ...}
   with cutoff=X:             SpliceAI_cutoff=PASS when the largest DS >= X, else FAIL

 Only the score of the gene whose symbol is the transcript's gene symbol is
 reported. Alleles are matched in VCF form (indels with their leading base),
 on the forward strand, whatever the transcript's strand.

 Three sources of scores:

 1. file=SCORES.vcf.gz (tabix-indexed; repeatable; snv= and indel= are
    accepted too, as VEP's SpliceAI plugin names them): Illumina's
    precomputed files or the output of `spliceannot annotate`. Contig names
    with or without "chr" match.

 2. No file: when VEP loads the plugin, it starts one `spliceannot serve`
    on a private Unix socket in a temporary directory, and every VEP process
    (the main one and each --fork worker) connects to it, so the model is
    loaded once per run. The server stops, and the directory is removed, when
    VEP finishes, or when every VEP process has gone (killed included).
    Parameters:

      fasta=FILE         reference genome (required)
      annotation=NAME    grch37, grch38 (default), a SpliceAI-style table or a GTF/GFF3
      model=SPEC         spliceai (default), a weight file or a directory
      distance=N         -D (default 50)
      mask=0|1           -M (default 0)
      cache=PATH|none    the score cache (default: spliceannot's default cache)
      device=DEV         auto (default), cpu, cuda, cuda:N
      spliceannot=CMD    the spliceannot command (default: `spliceannot` on PATH;
                         may be several words, e.g. "python3 -m spliceannot")

    If the server cannot start (spliceannot not found, a bad annotation=, a
    missing model), the plugin fails to load: VEP warns and goes on without
    scores, unless it runs with --safe, which makes that fatal.

 3. socket=PATH: a `spliceannot serve --socket PATH` started beforehand
    (its own -R/-A/-m/-D/-M apply), shared in the same way; the plugin
    leaves it running.

 Common parameters: cutoff=X (0 to 1), split_output=1.

=cut

package SpliceAnnot;

use strict;
use warnings;

use File::Spec;
use File::Temp qw(tempdir);
use IO::Socket::UNIX;
use IPC::Open2 qw(open2);
use JSON::PP;
use List::Util qw(max);

use base qw(Bio::EnsEMBL::Variation::Utils::BaseVepPlugin);

my @FIELDS = qw(DS_AG DS_AL DS_DG DS_DL DP_AG DP_AL DP_DG DP_DL);
my %DESCRIPTION = (
  SYMBOL => 'gene symbol',
  DS_AG  => 'predicted effect on splicing. Delta score for acceptor gain',
  DS_AL  => 'predicted effect on splicing. Delta score for acceptor loss',
  DS_DG  => 'predicted effect on splicing. Delta score for donor gain',
  DS_DL  => 'predicted effect on splicing. Delta score for donor loss',
  DP_AG  => 'predicted effect on splicing. Delta position for acceptor gain',
  DP_AL  => 'predicted effect on splicing. Delta position for acceptor loss',
  DP_DG  => 'predicted effect on splicing. Delta position for donor gain',
  DP_DL  => 'predicted effect on splicing. Delta position for donor loss',
);
my %KNOWN = map { $_ => 1 } qw(file snv indel fasta annotation model distance mask cache device
                                spliceannot socket cutoff split_output);
my $JSON = JSON::PP->new->utf8->canonical;

sub new {
  my $class = shift;
  my $self = $class->SUPER::new(@_);

  my %param;
  my @files;
  foreach my $item (@{ $self->params }) {
    my ($key, $value) = $item =~ /^(\w+)=(.*)$/s
      or die "ERROR: SpliceAnnot: parameters are key=value, got '$item'\n";
    die "ERROR: SpliceAnnot: unknown parameter '$key'\n" unless $KNOWN{$key};
    if ($key eq 'file' || $key eq 'snv' || $key eq 'indel') {
      push @files, $value;
    } else {
      $param{$key} = $value;
    }
  }

  if (defined $param{cutoff}) {
    die "ERROR: SpliceAnnot: cutoff must be a number between 0 and 1\n"
      unless $param{cutoff} =~ /^(?:\d+\.?\d*|\.\d+)$/ && $param{cutoff} <= 1;
    $self->{cutoff} = $param{cutoff};
  }
  $self->{split_output} = $param{split_output} ? 1 : 0;
  my $format = ($self->{config} && $self->{config}->{output_format}) || '';
  $self->{json} = ($format eq 'json' || ($self->{config} && $self->{config}->{rest})) ? 1 : 0;
  $self->{vcf} = $format eq 'vcf' ? 1 : 0;

  if (@files) {
    foreach my $file (@files) {
      die "ERROR: SpliceAnnot: score file $file not found\n" unless -e $file;
      die "ERROR: SpliceAnnot: $file has no tabix index ($file.tbi or $file.csi)\n"
        unless -e "$file.tbi" || -e "$file.csi";
    }
    $self->{files} = \@files;
    $self->{source} = 'file';
  } elsif (defined $param{socket}) {
    die "ERROR: SpliceAnnot: no spliceannot serve socket at $param{socket}\n" unless -S $param{socket};
    $self->{socket} = $param{socket};
    $self->{source} = 'serve';
  } else {
    die "ERROR: SpliceAnnot: give file=SCORES.vcf.gz, fasta=GENOME (to start `spliceannot serve`) or socket=PATH\n"
      unless defined $param{fasta};
    die "ERROR: SpliceAnnot: FASTA $param{fasta} not found\n" unless -e $param{fasta};
    die "ERROR: SpliceAnnot: distance must be an integer from 0 to 4999\n"
      if defined $param{distance} && ($param{distance} !~ /^\d+$/ || $param{distance} > 4999);
    die "ERROR: SpliceAnnot: mask must be 0 or 1\n" if defined $param{mask} && $param{mask} !~ /^[01]$/;
    $self->{command} = $self->_serve_command(\%param);
    $self->{source} = 'serve';
    # started here, in the VEP process that forks the workers, so that they all share it;
    # a failure here fails the plugin's loading (fatal with VEP's --safe)
    $self->_start_server;
  }
  return $self;
}

sub feature_types {
  return ['Transcript'];
}

sub get_header_info {
  my $self = shift;
  my $label = $self->{source} eq 'file' ? 'SpliceAI (' . $self->_file_version . ')' : 'SpliceAI (spliceannot serve)';
  my %header;
  if ($self->{vcf} || $self->{split_output}) {
    $header{"SpliceAI_pred_$_"} = "$label $DESCRIPTION{$_}" for ('SYMBOL', @FIELDS);
  } else {
    $header{SpliceAI_pred} = "$label predicted effect on splicing. These include delta scores (DS) and delta "
      . "positions (DP) for acceptor gain (AG), acceptor loss (AL), donor gain (DG), and donor loss (DL). "
      . 'Format: SYMBOL|' . join('|', @FIELDS);
  }
  $header{SpliceAI_cutoff} = 'Flag if delta score pass the cutoff (PASS) or if it does not (FAIL)'
    if defined $self->{cutoff};
  return \%header;
}

sub run {
  my ($self, $tva) = @_;
  my $transcript = $tva->transcript;
  my $symbol = $transcript->{_gene_symbol} || $transcript->{_gene_hgnc};
  return {} unless $symbol;

  my $variant = $self->_vcf_variant($tva) or return {};
  # VEP turns a die in run() into a warning and goes on: report a broken
  # server once, then give no scores in this process instead of retrying
  return {} if $self->{broken} && $self->{broken} == $$;
  my $entries = eval { $self->_entries($variant) };
  unless ($entries) {
    $self->{broken} = $$;
    die $@;
  }
  foreach my $entry (@$entries) {
    my ($allele, $gene, @values) = split /\|/, $entry, -1;
    next unless @values == @FIELDS && uc($allele) eq uc($variant->{alt}) && $gene eq $symbol;
    return $self->_result($gene, \@values);
  }
  return {};
}

# The keys VEP's SpliceAI plugin writes for one gene's entry.
sub _result {
  my ($self, $gene, $values) = @_;
  my %result;
  if ($self->{vcf} || $self->{json} || $self->{split_output}) {
    my $prefix = ($self->{vcf} || ($self->{split_output} && !$self->{json})) ? 'SpliceAI_pred_' : '';
    $result{$prefix . 'SYMBOL'} = $gene;
    @result{ map { $prefix . $_ } @FIELDS } = @$values;
  } else {
    $result{SpliceAI_pred} = join('|', $gene, @$values);
  }
  if (defined $self->{cutoff}) {
    my @scores = grep { /^-?\d*\.?\d+(?:[eE][-+]?\d+)?$/ } @$values[0 .. 3];
    $result{SpliceAI_cutoff} = (@scores && max(@scores) >= $self->{cutoff}) ? 'PASS' : 'FAIL';
  }
  return $self->{json} ? { SpliceAI => \%result } : \%result;
}

# The variant in VCF form (forward strand, indels with their leading base):
# {chrom, pos, ref, alts => [...], alt => this allele}. VEP trims the base that
# a VCF indel's alleles share (and writes '-' for an empty allele); the VCF
# line VEP read, or VariationFeature::to_VCF_record, gives it back.
sub _vcf_variant {
  my ($self, $tva) = @_;
  my $vf = $tva->variation_feature;
  my $allele_string = $vf->allele_string;
  return undef unless defined $allele_string && $allele_string =~ m{/};
  my ($ref, @alts) = split m{/}, $allele_string;
  my $number = $tva->can('allele_number') ? $tva->allele_number : undef;
  unless ($number) {  # older VEP: find the allele among the forward-strand ones
    my $seq = $tva->variation_feature_seq;
    if ($tva->transcript->strand < 0) {
      $seq = reverse $seq;
      $seq =~ tr/ACGTacgt/TGCAtgca/;
    }
    ($number) = grep { $alts[$_ - 1] eq $seq } 1 .. @alts;
    return undef unless $number;
  }
  my $start = $vf->{start} < $vf->{end} ? $vf->{start} : $vf->{end};
  my $line = $vf->{_line};
  if (ref $line eq 'ARRAY' && @$line >= 5 && $line->[1] =~ /^\d+$/) {  # read from a VCF
    my @vcf_alts = split /,/, $line->[4];
    return undef unless @vcf_alts == @alts;
    ($start, $ref, @alts) = ($line->[1], $line->[3], @vcf_alts);
  } elsif ($allele_string =~ /-/) {
    my $record = $vf->to_VCF_record;
    return undef unless $record && @$record >= 5;
    my @vcf_alts = split /,/, $record->[4];
    return undef unless @vcf_alts == @alts;
    ($start, $ref, @alts) = ($record->[1], $record->[3], @vcf_alts);
  }
  return { chrom => $vf->{chr}, pos => $start, ref => $ref, alts => \@alts, alt => $alts[$number - 1] };
}

# INFO entries (ALLELE|SYMBOL|DS_AG|...|DP_DL) for a variant; one lookup per
# variant, however many transcripts it overlaps.
sub _entries {
  my ($self, $variant) = @_;
  my $key = join("\t", @$variant{qw(chrom pos ref)}, @{ $variant->{alts} });
  return $self->{last}->[1] if $self->{last} && $self->{last}->[0] eq $key;
  my $entries = $self->{source} eq 'file' ? $self->_entries_from_files($variant) : $self->_entries_from_server($variant);
  $self->{last} = [$key, $entries];
  return $entries;
}

# --------------------------------------------------------------------------- spliceannot serve

sub _serve_command {
  my ($self, $param) = @_;
  my @command = split ' ', (defined $param->{spliceannot} ? $param->{spliceannot} : 'spliceannot');
  push @command, 'serve', '-R', $param->{fasta}, '-A', (defined $param->{annotation} ? $param->{annotation} : 'grch38');
  push @command, '-m', $param->{model} if defined $param->{model};
  push @command, '-D', $param->{distance} if defined $param->{distance};
  push @command, '-M', $param->{mask} if defined $param->{mask};
  push @command, '--device', $param->{device} if defined $param->{device};
  if (defined $param->{cache}) {
    push @command, ($param->{cache} =~ /^(?:none|no|off|0)$/i ? '--no-cache' : ('--cache', $param->{cache}));
  }
  # one request at a time: no point waiting for company
  push @command, '--max-wait-ms', '0';
  return \@command;
}

# The server's keeper: a small Perl process that runs `spliceannot serve
# --socket` (arguments: the private directory, then the command) and stops it
# when its own standard input ends. VEP holds the other end of that pipe, and
# VEP's --fork workers inherit it, so the server goes away when the run ends,
# or when every VEP process has died (SIGKILL included). SIGTERM, SIGINT and
# SIGHUP stop it too. It relays the server's ready line on its stdout and
# exits with the server's status (127: the command could not be run).
my $KEEPER = <<'KEEPER';
use strict;
use warnings;
use IO::Select;
use POSIX ();
$0 = 'SpliceAnnot: keeper of spliceannot serve';
my $dir = shift @ARGV;
pipe(my $from, my $to) or die "ERROR: SpliceAnnot: pipe: $!\n";
my $pid = fork;
die "ERROR: SpliceAnnot: fork: $!\n" unless defined $pid;
if ($pid == 0) {
  close $from;
  open(STDIN, '<', '/dev/null');
  open(STDOUT, '>&', $to);
  { exec { $ARGV[0] } @ARGV }
  print STDERR "ERROR: SpliceAnnot: cannot run '$ARGV[0]': $!\n";
  POSIX::_exit(127);
}
close $to;
my $finish = sub {
  my $stop = shift;
  kill 'TERM', $pid if $stop;
  waitpid($pid, 0);
  my $status = $? & 127 ? 128 + ($? & 127) : $? >> 8;
  unlink "$dir/serve.sock";
  rmdir $dir;
  POSIX::_exit($status);
};
$SIG{$_} = sub { $finish->(1) } for qw(TERM INT HUP);
$SIG{PIPE} = 'IGNORE';
my $ready = readline($from);
$finish->(0) unless defined $ready;
syswrite(STDOUT, $ready);
my $select = IO::Select->new(\*STDIN, $from);
while (1) {
  foreach my $handle ($select->can_read) {
    next if sysread($handle, my $buffer, 65536);
    $finish->($handle == $from ? 0 : 1);  # the server ended, or the VEP processes did
  }
}
KEEPER

# The program a command runs, or undef when it cannot be found (as execvp looks it up).
sub _program {
  my $name = shift;
  return (-f $name && -x _) ? $name : undef if $name =~ m{/};
  foreach my $dir (split /:/, (defined $ENV{PATH} ? $ENV{PATH} : ''), -1) {
    my $path = ($dir eq '' ? '.' : $dir) . "/$name";
    return $path if -f $path && -x _;
  }
  return undef;
}

# Start the shared server (through its keeper) and wait for it to be ready.
sub _start_server {
  my $self = shift;
  my @command = @{ $self->{command} };
  die "ERROR: SpliceAnnot: '$command[0]' not found; put spliceannot on PATH or give spliceannot=/path/to/spliceannot\n"
    unless _program($command[0]);
  # a Unix socket's path has room for 107 bytes
  my $base = File::Spec->tmpdir;
  $base = '/tmp' if length("$base/spliceannot-vep-XXXXXXXX/serve.sock") > 107;
  my $dir = tempdir('spliceannot-vep-XXXXXXXX', DIR => $base);
  my $path = "$dir/serve.sock";
  my ($from, $to);
  my $pid = eval { open2($from, $to, $^X, '-e', $KEEPER, '--', $dir, @command, '--socket', $path) };
  unless ($pid) {
    rmdir $dir;
    die "ERROR: SpliceAnnot: cannot run $^X: " . ($@ || $!) . "\n";
  }
  my $line = readline($from);
  my $ready = defined $line ? eval { $JSON->decode($line) } : undef;
  unless ($ready && ref $ready eq 'HASH' && $ready->{ready}) {
    close $to;
    waitpid($pid, 0);
    my $status = $? >> 8;
    rmdir $dir;
    die "ERROR: SpliceAnnot: '@command' did not start (exit status $status); see its error above\n";
  }
  $self->{server} = { pid => $pid, owner => $$, from => $from, to => $to, dir => $dir, ready => $ready };
  $self->{socket} = $path;
  return;
}

# The connection of this process (the main one or a --fork worker) to the server.
sub _connection {
  my $self = shift;
  my $connection = $self->{connection};
  return $connection if $connection && $connection->{owner} == $$;
  my $socket = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Peer => $self->{socket})
    or die "ERROR: SpliceAnnot: cannot connect to spliceannot serve at $self->{socket}: $!\n";
  my $line = readline($socket);
  my $ready = defined $line ? eval { $JSON->decode($line) } : undef;
  die "ERROR: SpliceAnnot: no ready line from spliceannot serve at $self->{socket}\n"
    unless $ready && ref $ready eq 'HASH' && $ready->{ready};
  $self->{connection} = { owner => $$, socket => $socket, ready => $ready, next_id => 1 };
  return $self->{connection};
}

sub _entries_from_server {
  my ($self, $variant) = @_;
  my $connection = $self->_connection;
  my $id = $connection->{next_id}++;
  my $request = {
    id => $id, chrom => "$variant->{chrom}", pos => 0 + $variant->{pos},
    ref => "$variant->{ref}", alt => [ map {"$_"} @{ $variant->{alts} } ],
  };
  my $line;
  {
    local $SIG{PIPE} = 'IGNORE';
    my $socket = $connection->{socket};
    print {$socket} $JSON->encode($request), "\n" or die "ERROR: SpliceAnnot: spliceannot serve has gone away\n";
    $socket->flush;
    $line = readline($socket);
  }
  die "ERROR: SpliceAnnot: spliceannot serve stopped; see its error above\n" unless defined $line;
  my $reply = eval { $JSON->decode($line) };
  die "ERROR: SpliceAnnot: unreadable reply from spliceannot serve: $line" unless $reply && ref $reply eq 'HASH';
  die "ERROR: SpliceAnnot: reply $reply->{id} to request $id\n" unless defined $reply->{id} && $reply->{id} eq $id;
  if (defined $reply->{error}) {
    warn "WARNING: SpliceAnnot: $variant->{chrom}:$variant->{pos} $variant->{ref}>"
      . join(',', @{ $variant->{alts} }) . " not scored: $reply->{error}\n";
    return [];
  }
  return $reply->{scores} || [];
}

# VEP calls finish() in its main process at the end of the run: stop the server.
sub finish {
  my $self = shift;
  $self->_close;
}

# Close this process's connection; in the process that started the server, stop it
# (a --fork worker leaves it running for the others).
sub _close {
  my $self = shift;
  local $?;
  my $connection = $self->{connection};
  if ($connection && $connection->{owner} == $$) {
    delete $self->{connection};
    close $connection->{socket};
  }
  my $server = $self->{server} or return;
  return unless $server->{owner} == $$;
  delete $self->{server};
  kill 'TERM', $server->{pid};  # the keeper stops the server and removes the directory
  close $server->{to};
  close $server->{from};
  waitpid($server->{pid}, 0);
  unlink "$server->{dir}/serve.sock";
  rmdir $server->{dir};
}

sub DESTROY {
  my $self = shift;
  local ($!, $@);
  $self->_close;
}

# --------------------------------------------------------------------------- score files

sub _has_hts {
  my $self = shift;
  $self->{hts} = (eval { require Bio::DB::HTS::Tabix; 1 } ? 1 : 0) unless defined $self->{hts};
  return $self->{hts};
}

# A Bio::DB::HTS::Tabix handle per file and process (handles do not survive --fork).
sub _hts {
  my ($self, $file) = @_;
  my $handle = $self->{hts_handles}->{$file};
  return $handle->[1] if $handle && $handle->[0] == $$;
  my $tabix = Bio::DB::HTS::Tabix->new(filename => $file);
  $self->{hts_handles}->{$file} = [$$, $tabix];
  return $tabix;
}

sub _run_tabix {
  my ($self, @args) = @_;
  open(my $fh, '-|', 'tabix', @args) or die "ERROR: SpliceAnnot: cannot run tabix: $!\n";
  my @lines = <$fh>;
  close $fh;
  chomp @lines;
  return @lines;
}

# The file's name for a contig: as given, else with "chr" added or removed (and M/MT).
sub _contig_in {
  my ($self, $file, $chrom) = @_;
  my $names = $self->{contigs}->{$file} ||= {
    map { $_ => 1 } ($self->_has_hts ? @{ $self->_hts($file)->seqnames } : $self->_run_tabix('-l', $file))
  };
  my $bare = $chrom;
  $bare =~ s/^chr//i;
  my @candidates = ($chrom, $bare, "chr$bare");
  push @candidates, qw(MT M chrM chrMT) if $bare =~ /^MT?$/i;
  foreach my $name (@candidates) {
    return $name if $names->{$name};
  }
  return undef;
}

sub _entries_from_files {
  my ($self, $variant) = @_;
  my %wanted = map { uc($_) => 1 } @{ $variant->{alts} };
  my @entries;
  foreach my $file (@{ $self->{files} }) {
    my $contig = $self->_contig_in($file, $variant->{chrom});
    next unless defined $contig;
    my $region = "$contig:$variant->{pos}-$variant->{pos}";
    my @lines;
    if ($self->_has_hts) {
      my $iterator = $self->_hts($file)->query($region);
      while ($iterator && defined(my $line = $iterator->next)) {
        push @lines, $line;
      }
    } else {
      @lines = $self->_run_tabix($file, $region);
    }
    foreach my $line (@lines) {
      my @column = split /\t/, $line;
      next unless @column >= 8 && $column[1] == $variant->{pos} && uc($column[3]) eq uc($variant->{ref});
      my ($info) = map { /^SpliceAI=(.*)$/ ? $1 : () } split /;/, $column[7];
      next unless defined $info;
      push @entries, grep { my ($allele) = split /\|/; $wanted{ uc $allele } } split /,/, $info;
    }
  }
  return \@entries;
}

# "v1.3.1" from the SpliceAI INFO header line of the first file.
sub _file_version {
  my $self = shift;
  my $file = $self->{files}->[0];
  my @header = $self->_has_hts ? split(/\n/, $self->_hts($file)->header) : $self->_run_tabix('-H', $file);
  foreach my $line (@header) {
    return $1 if $line =~ /^##INFO=<ID=SpliceAI,.*SpliceAI(v[\d.]+)/;
  }
  return 'unknown version';
}

1;
