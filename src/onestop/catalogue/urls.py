from django.urls import path

from onestop.catalogue import views

app_name = "catalogue"

urlpatterns = [
    path("", views.home, name="home"),
    path("country/", views.choose_country, name="choose_country"),
    path("services/", views.service_search, name="search"),
    path("services/<str:code>/", views.service_detail, name="service"),
    path("life-situations/<str:code>/", views.life_situation, name="life_situation"),
    path("agencies/", views.agency_list, name="agencies"),
    path("agencies/<str:code>/", views.agency_detail, name="agency"),
]
