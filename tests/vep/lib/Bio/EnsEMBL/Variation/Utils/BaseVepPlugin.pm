# STAND-IN for tests only: the part of Ensembl VEP's plugin base class that a
# plugin uses (constructor, parameters, configuration, default hooks), so that
# plugins/vep/SpliceAnnot.pm can be tested without an Ensembl VEP install.
# The real class ships with ensembl-variation; docs/vep.md shows a run in a
# real VEP.
package Bio::EnsEMBL::Variation::Utils::BaseVepPlugin;

use strict;
use warnings;

sub new {
  my ($class, $config, @params) = @_;
  return bless {
    version               => '115',
    feature_types         => ['Transcript'],
    variant_feature_types => ['VariationFeature'],
    config                => $config,
    params                => \@params,
  }, $class;
}

sub params {
  my $self = shift;
  return $self->{params} || [];
}

sub params_to_hash {
  my $self = shift;
  my %hash;
  foreach my $param (@{ $self->params }) {
    my ($key, $value) = split /=/, $param, 2;
    die "ERROR: Failed to parse parameter $param\n" unless defined $value;
    $hash{$key} = $value;
  }
  return \%hash;
}

sub config { return $_[0]->{config} }

sub version { return $_[0]->{version} }

sub feature_types { return $_[0]->{feature_types} }

sub variant_feature_types { return $_[0]->{variant_feature_types} }

sub get_header_info { return undef }

sub run { return {} }

1;
