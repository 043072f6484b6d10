"""The serializers of the core's resources: tokens, the session, members and
invitations."""

from rest_framework import serializers

from hatchet.api import StringField
from hatchet.models import APIToken, Invitation, Membership, Role, TokenRole


class TokenSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(
        source="created_by.get_username", read_only=True, allow_null=True
    )

    class Meta:
        model = APIToken
        fields = ["id", "name", "role", "prefix", "created_at", "last_used_at", "created_by"]
        read_only_fields = fields


class NewTokenSerializer(serializers.Serializer):
    name = StringField(max_length=200)
    role = serializers.ChoiceField(
        choices=TokenRole.choices,
        default=TokenRole.VIEWER,
        help_text="viewer, editor or admin act as a member with that role; worker may only "
        "run workers (/ws/worker) and register workflows. No higher than the issuer's role.",
    )


class IssuedTokenSerializer(serializers.ModelSerializer):
    token = serializers.SerializerMethodField(help_text="The secret; it is shown only this once.")

    class Meta:
        model = APIToken
        fields = ["id", "name", "role", "prefix", "created_at", "token"]
        read_only_fields = fields

    def get_token(self, _token: APIToken) -> str:
        return self.context["secret"]


class UserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.CharField()


class SessionTenantSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    slug = serializers.CharField()
    name = serializers.CharField()


class SessionMembershipSerializer(serializers.Serializer):
    tenant = SessionTenantSerializer()
    role = serializers.ChoiceField(choices=Role.choices)


class SessionSerializer(serializers.Serializer):
    user = UserSerializer(allow_null=True)
    memberships = SessionMembershipSerializer(many=True)


class SignInSerializer(serializers.Serializer):
    username = StringField(max_length=150)
    password = StringField(max_length=4096, trim_whitespace=False)


class MemberSerializer(serializers.ModelSerializer):
    user = UserSerializer(read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "user", "role", "created_at"]


class NewMemberSerializer(serializers.Serializer):
    username = StringField(max_length=150)
    role = serializers.ChoiceField(choices=Role.choices)
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    password = StringField(
        write_only=True,
        max_length=4096,
        trim_whitespace=False,
        help_text="The new user's; a person who already has a user is invited instead.",
    )


class MemberRoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


class InvitationSerializer(serializers.ModelSerializer):
    invited_by = serializers.CharField(
        source="invited_by.get_username", read_only=True, allow_null=True
    )

    class Meta:
        model = Invitation
        fields = ["id", "invitee", "role", "invited_by", "created_at", "expires_at"]


class NewInvitationSerializer(serializers.Serializer):
    invitee = StringField(max_length=254, help_text="A username or an email address.")
    role = serializers.ChoiceField(choices=Role.choices)


class ReceivedInvitationSerializer(InvitationSerializer):
    tenant = SessionTenantSerializer(read_only=True)

    class Meta(InvitationSerializer.Meta):
        fields = ["id", "tenant", "role", "invited_by", "created_at", "expires_at"]
