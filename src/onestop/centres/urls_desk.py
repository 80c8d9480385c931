"""Pages of a centre: the kiosk, the display board and the operator desk."""

from django.urls import path

from onestop.centres import views_desk as views

urlpatterns = [
    path("centres/<str:code>/kiosk/", views.kiosk, name="kiosk"),
    path("centres/<str:code>/kiosk/ticket/<str:token>/", views.kiosk_ticket,
         name="kiosk_ticket"),
    path("centres/<str:code>/board/", views.board, name="board"),
    path("centres/<str:code>/board.json", views.board_json, name="board_json"),
    path("desk/", views.desk, name="desk"),
    path("desk/<slug:action>/", views.desk_act, name="desk_act"),
]
